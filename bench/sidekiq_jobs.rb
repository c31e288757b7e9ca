# The job class of the Sidekiq process in `make bench`, started as a user
# starts it: `sidekiq -r ./bench/sidekiq_jobs.rb` (REDIS_URL in the
# environment; every other setting at Sidekiq's default: concurrency 10,
# queue "default", INFO logging to stdout, which the harness sends to a file).
require "sidekiq"

class BenchNoop
  include Sidekiq::Worker
  def perform(_idx) = nil
end
