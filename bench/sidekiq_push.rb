# Pushes N no-op jobs of class BenchNoop with Sidekiq::Client.push_bulk, as a
# Ruby application would, for a worker started afterwards (the Sidekiq
# process or `errand worker`: both read the same payloads).
# Usage: ruby bench/sidekiq_push.rb REDIS_URL N
require "sidekiq"

url = ARGV.fetch(0)
n = Integer(ARGV.fetch(1))
Sidekiq.configure_client { |c| c.redis = {url: url} }
Sidekiq.redis { |c| c.flushdb }
0.step(n - 1, 10_000) do |from|
  count = [10_000, n - from].min
  Sidekiq::Client.push_bulk("class" => "BenchNoop", "args" => Array.new(count) { |i| [from + i] })
end
