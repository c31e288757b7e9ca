# Sidekiq's single-job enqueue rate: N perform_async calls in a loop, on the
# same redis-server errand is measured on. Usage: ruby sidekiq_enqueue.rb URL N
require "sidekiq"

url = ARGV[0] || "redis://127.0.0.1:6399/13"
n = (ARGV[1] || 20_000).to_i
Sidekiq.configure_client { |c| c.redis = {url: url} }

class EnqueueWorker
  include Sidekiq::Worker
  def perform(idx) = nil
end

Sidekiq.redis { |c| c.flushdb }
t0 = Time.now
n.times { |i| EnqueueWorker.perform_async(i) }
s = Time.now - t0
puts format("sidekiq %s perform_async: %d jobs %.2fs (%.0f/s)", Sidekiq::VERSION, n, s, n / s)
Sidekiq.redis { |c| c.flushdb }
