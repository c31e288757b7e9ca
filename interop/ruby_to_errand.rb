# Ruby → errand: jobs pushed by Sidekiq's own client (perform_async,
# perform_in, push_bulk) run in an errand worker with the arguments Ruby
# sent; a failing job is retried and ends in the dead set, as Sidekiq's API
# shows; the processed/failed counters and their history add up.
require_relative "stand_ins"

I = Interop
worker = I.start_worker(queues: ["interop"], concurrency: 4)
out = worker.out
ran = ->(jid) { I.records(out).select { |r| r["jid"] == jid && r["event"] == "ran" } }

# perform_async, with every JSON type in the arguments.
value = {"int" => 1, "str" => "two \u00e9\u6f22", "float" => 2.5, "bool" => true, "nil" => nil,
         "list" => [1, [2, {"three" => 3}]], "big" => 2**40}
jid1 = I::EchoJob.perform_async(value)
jid2 = I::TypedJob.perform_async(42, "h\u00e9llo", {"a" => [1, 2]}, false, -0.5)
r1 = I.wait_for("EchoJob #{jid1} to run in errand") { ran.call(jid1).first }
I.check_equal("perform_async: errand got the arguments Ruby sent", [value], r1["args"])
I.check_equal("perform_async: errand ran it under the Ruby class name", "Interop::EchoJob", r1["class"])
I.check_equal("perform_async: queue from sidekiq_options", "interop", r1["queue"])
r2 = I.wait_for("TypedJob #{jid2} to run in errand") { ran.call(jid2).first }
I.check_equal("typed perform(int64, string, Json, bool, double) got Ruby's values",
  [42, "h\u00e9llo", {"a" => [1, 2]}, false, -0.5], r2["args"])

# perform_in: the job waits in the schedule, then errand's poller runs it.
t_in = Time.now.to_f
jid3 = I::EchoJob.perform_in(5, "later")
I.check("perform_in: Sidekiq::ScheduledSet lists #{jid3}") { Sidekiq::ScheduledSet.new.find_job(jid3) }
r3 = I.wait_for("scheduled job #{jid3} to run") { ran.call(jid3).first }
I.check_equal("perform_in: arguments", ["later"], r3["args"])
I.check("perform_in: ran no earlier than 5 s after the push") { r3["at"] >= t_in + 5 - 0.5 }
I.check("perform_in: gone from the schedule") { Sidekiq::ScheduledSet.new.find_job(jid3).nil? }

# push_bulk: 200 jobs in one LPUSH.
bulk_args = (1..200).map { |i| [{"bulk" => i}] }
jids = Sidekiq::Client.push_bulk("class" => I::EchoJob, "args" => bulk_args)
I.check_equal("push_bulk returned a jid per job", 200, jids.compact.uniq.size)
I.wait_for("all 200 bulk jobs to run",
  last: -> { I.records(out).count { |r| jids.include?(r["jid"]) } }) do
  I.records(out).count { |r| jids.include?(r["jid"]) } >= 200
end
by_jid = I.records(out).select { |r| jids.include?(r["jid"]) }.to_h { |r| [r["jid"], r["args"]] }
I.check("push_bulk: each jid ran with its own arguments") do
  jids.each_with_index.all? { |jid, i| by_jid[jid] == bulk_args[i] }
end

# A failing job (retry: 1): one retry, then the dead set.
fjid = I::FailJob.perform_async({"fail" => 1})
entry = I.wait_for("failed job #{fjid} in Sidekiq::RetrySet") { Sidekiq::RetrySet.new.find_job(fjid) }
I.check_equal("retry entry: retry_count after the first failure", 0, entry["retry_count"])
I.check_equal("retry entry: error_class", "interop::InteropError", entry["error_class"])
I.check("retry entry: error_message names the job's argument (#{entry["error_message"]})") do
  entry["error_message"].include?('{"fail":1}')
end
I.check("retry entry: failed_at is float epoch seconds") { entry["failed_at"].is_a?(Float) && (entry["failed_at"] - Time.now.to_f).abs < 600 }
I.check_equal("retry entry: queue", "interop", entry.queue)
I.check("retry entry: score is when it runs again") { entry.at.to_f > entry["failed_at"] }
dead = I.wait_for("job #{fjid} in Sidekiq::DeadSet after its one retry") { Sidekiq::DeadSet.new.find_job(fjid) }
I.check_equal("dead entry: retry_count", 1, dead["retry_count"])
I.check("dead entry: retried_at set") { dead["retried_at"].is_a?(Float) }
I.check_equal("dead entry: error_class", "interop::InteropError", dead["error_class"])
I.check_equal("the failing job ran twice", 2, I.records(out).count { |r| r["jid"] == fjid && r["event"] == "attempt" })
I.check("no longer in the retry set") { Sidekiq::RetrySet.new.find_job(fjid).nil? }

# Counters: 1 + 1 + 1 + 200 successes, 2 failures, flushed by the heartbeat.
ok_jobs = 203
stats = I.wait_for("Sidekiq::Stats processed 205 / failed 2",
  last: -> { s = Sidekiq::Stats.new; [s.processed, s.failed] }) do
  s = Sidekiq::Stats.new
  s if s.processed == ok_jobs + 2 && s.failed == 2
end
I.check_equal("Stats#processed (203 ok + 2 failed runs)", ok_jobs + 2, stats.processed)
I.check_equal("Stats#failed", 2, stats.failed)
I.check_equal("Stats#enqueued", 0, stats.enqueued)
I.check_equal("Stats#dead_size", 1, stats.dead_size)
today = Time.now.utc.strftime("%Y-%m-%d")
history = Sidekiq::Stats::History.new(2)
I.check_equal("Stats::History processed today", ok_jobs + 2, history.processed[today])
I.check_equal("Stats::History failed today", 2, history.failed[today])
I.check_equal("Sidekiq::Queue('interop') is drained", 0, Sidekiq::Queue.new("interop").size)

I.stop_worker(worker)
I.check_equal("errand worker exits 0 on SIGTERM", 0, worker.status.exitstatus)
I.check("the worker left Sidekiq::ProcessSet") { Sidekiq::ProcessSet.new.none? { |p| p["pid"] == worker.pid } }
I.done
