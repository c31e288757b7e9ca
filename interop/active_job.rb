# ActiveJob → errand: a real ActiveJob class enqueued through Rails' Sidekiq
# adapter (JobWrapper, `wrapped`, args[0] = the serialized job) runs in an
# errand worker under the ActiveJob class name, with ActiveJob's argument
# encoding (symbol keys, indifferent hashes) decoded to plain JSON.
require_relative "helper"
require "active_job"
require "active_job/queue_adapters/sidekiq_adapter"
require "active_support/hash_with_indifferent_access"

ActiveJob::Base.queue_adapter = :sidekiq
ActiveJob::Base.logger = Logger.new(nil)

module Interop
  class ActiveEchoJob < ActiveJob::Base
    queue_as :interop
    def perform(n, s, h) = raise("runs in errand, not in Ruby")
  end
end

I = Interop
worker = I.start_worker(queues: ["interop"], concurrency: 2)
out = worker.out

# Look at the raw payload the adapter wrote before errand takes it: enqueue
# into a queue the worker does not watch first.
probe = I::ActiveEchoJob.set(queue: "aj_probe").perform_later(1, "probe", {"k" => "v"})
raw = JSON.parse(Sidekiq.redis { |c| c.lindex("queue:aj_probe", 0) })
I.check_equal("payload class is Rails' JobWrapper", "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper", raw["class"])
I.check_equal("payload wrapped is the ActiveJob class", "Interop::ActiveEchoJob", raw["wrapped"])
I.check_equal("args[0] is the serialized job (job_class)", "Interop::ActiveEchoJob", raw["args"][0]["job_class"])
I.check_equal("args[0].job_id is ActiveJob's id", probe.job_id, raw["args"][0]["job_id"])
I.check_equal("provider_job_id is the Sidekiq jid", raw["jid"], probe.provider_job_id)
Sidekiq::Queue.new("aj_probe").clear

# Symbol keys (_aj_symbol_keys), an indifferent hash, nested values.
h = {sym: 1, "str" => [true, nil, 2.5], nested: {deep: "x"}}
job = I::ActiveEchoJob.perform_later(7, "seven \u00e9", h)
r = I.wait_for("ActiveJob #{job.provider_job_id} to run in errand") do
  I.records(out).find { |x| x["jid"] == job.provider_job_id }
end
I.check_equal("errand ran it under the ActiveJob class name", "Interop::ActiveEchoJob", r["class"])
I.check_equal("errand decoded ActiveJob's arguments",
  [7, "seven \u00e9", {"sym" => 1, "str" => [true, nil, 2.5], "nested" => {"deep" => "x"}}], r["args"])

ind = ActiveSupport::HashWithIndifferentAccess.new("a" => 1)
job2 = I::ActiveEchoJob.perform_later(8, "indifferent", ind)
r2 = I.wait_for("ActiveJob with an indifferent hash to run") { I.records(out).find { |x| x["jid"] == job2.provider_job_id } }
I.check_equal("indifferent hash decoded", [8, "indifferent", {"a" => 1}], r2["args"])

# Scheduled through the adapter's enqueue_at: the schedule set, then errand's poller.
job3 = I::ActiveEchoJob.set(wait: 2).perform_later(9, "later", {})
I.check("set(wait:) put the job in Sidekiq::ScheduledSet") { Sidekiq::ScheduledSet.new.find_job(job3.provider_job_id) }
r3 = I.wait_for("scheduled ActiveJob to run") { I.records(out).find { |x| x["jid"] == job3.provider_job_id } }
I.check_equal("scheduled ActiveJob arguments", [9, "later", {}], r3["args"])

I.stop_worker(worker)
I.check_equal("errand worker exits 0", 0, worker.status.exitstatus)
I.done
