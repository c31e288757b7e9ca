# Sidekiq's drain rate, timed by the jobs themselves: the shared baseline
# (../shared/bench/sidekiq_load.rb) polls `stat:processed`, which Sidekiq
# writes only with its heartbeat (every 5 s), so its times come in 5-second
# steps and its rate is a lower bound. Here each no-op job bumps an
# in-process counter (the workers run in this process) and the clock stops
# when the counter reaches N. Same push_bulk, same concurrency, same
# redis-server. Usage: ruby sidekiq_drain.rb URL N CONCURRENCY
require "sidekiq"
require "sidekiq/cli"
require "sidekiq/launcher"
require "concurrent"

url = ARGV[0] || "redis://127.0.0.1:6399/13"
n = (ARGV[1] || 100_000).to_i
conc = (ARGV[2] || 10).to_i

Sidekiq.configure_server do |config|
  config.options[:concurrency] = conc
  config.redis = {url: url}
  config.options[:queues] << "default"
  config.logger.level = Logger::ERROR
end
Sidekiq.configure_client { |c| c.redis = {url: url} }

DONE = Concurrent::AtomicFixnum.new(0)

class DrainWorker
  include Sidekiq::Worker
  def perform(_idx) = DONE.increment
end

Sidekiq.redis { |c| c.flushdb }
(n / 10_000).times do
  Sidekiq::Client.push_bulk("class" => DrainWorker, "args" => Array.new(10_000) { |i| [i] })
end
start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
launcher = Sidekiq::Launcher.new(Sidekiq.options)
launcher.run
sleep 0.02 while DONE.value < n  # 20 ms steps: a busier poll would take the GVL from the workers
run_s = Process.clock_gettime(Process::CLOCK_MONOTONIC) - start
puts format("sidekiq %s drain (timed by the jobs): %d jobs %.2fs (%.0f jobs/s) concurrency %d",
  Sidekiq::VERSION, n, run_s, n / run_s, conc)
Sidekiq.redis { |c| c.flushdb }
exit!(0)
