# What Sidekiq's API (the model behind its Web UI and its console) sees of
# an errand worker, and what its actions do to one:
#   ProcessSet (hostname, pid, concurrency, queues, tag, busy), Workers (the
#   running jobs), Stats and Stats::History, Queue / ScheduledSet / RetrySet /
#   DeadSet listing errand's jobs; actions: delete, add to queue, retry now,
#   kill, and ProcessSet quiet! / stop!.
require_relative "stand_ins"

I = Interop
worker = I.start_worker(queues: ["interop", "default"], concurrency: 3, extra: ["--tag", "interop-tag"])
out = worker.out
recs = ->(jid, event = nil) { I.records(out).select { |r| r["jid"] == jid && (event.nil? || r["event"] == event) } }

# ---- ProcessSet -------------------------------------------------------------
p = I.process_of(worker)
expected_host = ENV["DYNO"] || Socket.gethostname
I.check_equal("ProcessSet: hostname", expected_host, p["hostname"])
I.check_equal("ProcessSet: pid", worker.pid, p["pid"])
I.check_equal("ProcessSet: concurrency", 3, p["concurrency"])
I.check_equal("ProcessSet: queues", ["interop", "default"], p["queues"])
I.check_equal("ProcessSet: tag", "interop-tag", p["tag"])
I.check("ProcessSet: identity is hostname:pid:nonce (#{p.identity})") do
  p.identity.match?(/\A#{Regexp.escape(expected_host)}:#{worker.pid}:\h{12}\z/)
end
I.check("ProcessSet: started_at is float seconds, recent") { p["started_at"].is_a?(Float) && (Time.now.to_f - p["started_at"]).abs < 600 }
I.check("ProcessSet: not stopping") { !p.stopping? }
I.check_equal("ProcessSet: busy with nothing running", 0, p["busy"])
I.check("ProcessSet#size counts it") { Sidekiq::ProcessSet.new.size >= 1 }

# ---- Workers: two slow jobs running ----------------------------------------
slow = 2.times.map { I::SlowJob.perform_async(300) }
mine = -> { Sidekiq::Workers.new.select { |pid, _tid, _work| pid == p.identity } }
I.wait_for("Sidekiq::Workers to show both slow jobs", last: -> { mine.call.map { |_, _, w| w["payload"]["jid"] } }) do
  (slow - mine.call.map { |_, _, w| w["payload"]["jid"] }).empty?
end
mine.call.each do |_pid, tid, work|
  I.check("Workers entry #{tid}: payload class Interop::SlowJob, queue interop, integer run_at") do
    work["payload"]["class"] == "Interop::SlowJob" && work["queue"] == "interop" &&
      work["run_at"].is_a?(Integer) && (Time.now.to_i - work["run_at"]).abs < 600
  end
end
I.check("Workers thread ids are distinct") { mine.call.map { |_, tid, _| tid }.uniq.size == 2 }
I.wait_for("ProcessSet busy == 2", last: -> { Sidekiq::ProcessSet.new.find { |x| x["pid"] == worker.pid }&.[]("busy") }) do
  Sidekiq::ProcessSet.new.find { |x| x["pid"] == worker.pid }&.[]("busy") == 2
end
I.check("Workers#size counts them") { Sidekiq::Workers.new.size == 2 }
I.check("Stats#workers_size counts them") { Sidekiq::Stats.new.workers_size == 2 }

# ---- Queue: errand's jobs in a queue nobody works ---------------------------
parked = 3.times.map { |i| I.errand_cli("enqueue", "Interop::EchoJob", "[#{i}]", "-q", "parked").strip }
q = Sidekiq::Queue.new("parked")
I.check_equal("Sidekiq::Queue#size", 3, q.size)
I.check_equal("Sidekiq::Queue#each lists errand's jobs, next first", parked, q.map(&:jid).reverse)
I.check_equal("Sidekiq::Queue lists errand's args", [[0], [1], [2]], q.map(&:args).reverse)
q.find_job(parked[1]).delete
I.check_equal("JobRecord#delete removed errand's job", [parked[0], parked[2]], q.map(&:jid).reverse)
q.clear
I.check("Queue#clear emptied it and removed it from Queue.all") do
  q.size == 0 && Sidekiq::Queue.all.none? { |x| x.name == "parked" }
end

# ---- ScheduledSet: add to queue, delete ---------------------------------------
sa = I.errand_cli("enqueue", "Interop::EchoJob", '["scheduled-a"]', "-q", "interop", "--in", "3600").strip
sb = I.errand_cli("enqueue", "Interop::EchoJob", '["scheduled-b"]', "-q", "interop", "--in", "3600").strip
ss = Sidekiq::ScheduledSet.new
ea = ss.find_job(sa)
I.check("ScheduledSet lists errand's scheduled jobs") { ea && ss.find_job(sb) }
I.check("ScheduledSet entry's time is about an hour ahead") { (ea.at.to_f - Time.now.to_f - 3600).abs < 300 }
I.check_equal("ScheduledSet entry args", ["scheduled-a"], ea.args)
ea.add_to_queue
r = I.wait_for("'add to queue' job to run in errand") { recs.call(sa, "ran").first }
I.check_equal("added job ran with its arguments", ["scheduled-a"], r["args"])
ss.find_job(sb).delete
I.check("deleted scheduled job is gone") { Sidekiq::ScheduledSet.new.find_job(sb).nil? && Sidekiq::ScheduledSet.new.size == 0 }

# ---- RetrySet / DeadSet: retry now, kill, delete -------------------------------
fj = I::FailLaterJob.perform_async("retry-me")
re = I.wait_for("failed job in RetrySet") { Sidekiq::RetrySet.new.find_job(fj) }
I.check_equal("RetrySet entry: retry_count", 0, re["retry_count"])
I.check_equal("RetrySet entry: error_class", "interop::InteropError", re["error_class"])
I.check("RetrySet entry: next try about an hour ahead") { re.at.to_f > Time.now.to_f + 3000 }
re.retry
I.wait_for("'retry now' to run the job again") { recs.call(fj, "attempt").size == 2 }
re2 = I.wait_for("the job back in RetrySet after its second failure") do
  e = Sidekiq::RetrySet.new.find_job(fj)
  e if e && e["retried_at"]
end
I.check_equal("after 'retry now' (count - 1) and a failure (count + 1): retry_count", 0, re2["retry_count"])
re2.kill
de = I.wait_for("killed job in DeadSet") { Sidekiq::DeadSet.new.find_job(fj) }
I.check("kill: gone from RetrySet") { Sidekiq::RetrySet.new.find_job(fj).nil? }
I.check_equal("DeadSet entry keeps error_class", "interop::InteropError", de["error_class"])
de.retry
I.wait_for("DeadSet 'retry now' to run the job again") { recs.call(fj, "attempt").size == 3 }
re3 = I.wait_for("the job in RetrySet again") { Sidekiq::RetrySet.new.find_job(fj) }
I.check("DeadSet retry removed the dead entry") { Sidekiq::DeadSet.new.find_job(fj).nil? }
re3.kill
I.wait_for("killed again") { Sidekiq::DeadSet.new.find_job(fj) }.delete
I.check("DeadSet delete removed it") { Sidekiq::DeadSet.new.find_job(fj).nil? && Sidekiq::DeadSet.new.size == 0 }
I.check_equal("RetrySet is empty", 0, Sidekiq::RetrySet.new.size)

# ---- Stats ----------------------------------------------------------------------
# 1 job done (scheduled-a), 3 failed runs; the slow jobs are still running.
stats = I.wait_for("Stats processed 4 / failed 3", last: -> { s = Sidekiq::Stats.new; [s.processed, s.failed] }) do
  s = Sidekiq::Stats.new
  s if s.processed == 4 && s.failed == 3
end
I.check_equal("Stats#processes_size", 1, stats.processes_size)
I.check_equal("Stats#queues has no waiting jobs", 0, stats.enqueued)
today = Time.now.utc.strftime("%Y-%m-%d")
h = Sidekiq::Stats::History.new(3)
I.check_equal("Stats::History processed today", 4, h.processed[today])
I.check_equal("Stats::History failed today", 3, h.failed[today])
I.check_equal("Stats::History has 3 days", 3, h.processed.size)

# ---- quiet! ---------------------------------------------------------------------
Sidekiq::ProcessSet.new.find { |x| x["pid"] == worker.pid }.quiet!
I.wait_for("quiet! to show as stopping in ProcessSet") { Sidekiq::ProcessSet.new.find { |x| x["pid"] == worker.pid }&.stopping? }
I.check("the quiet worker is still alive") { I.wait_exit(worker, timeout: 0).nil? }
after_quiet = I::EchoJob.perform_async("pushed while quiet")
I.check("slow jobs still running while quiet") { Sidekiq::Workers.new.count { |pid, _, _| pid == p.identity } == 2 }

# ---- stop! ----------------------------------------------------------------------
Sidekiq::ProcessSet.new.find { |x| x["pid"] == worker.pid }.stop!
st = I.wait_exit(worker) || I.fail!("errand worker did not exit within 60 s of stop!")
I.check_equal("stop!: the worker exited 0", 0, st.exitstatus)
I.check("stop!: gone from ProcessSet") { Sidekiq::ProcessSet.new.none? { |x| x["pid"] == worker.pid } }
I.check("stop!: no Workers entries left") { Sidekiq::Workers.new.none? { |pid, _, _| pid == p.identity } }
waiting = Sidekiq::Queue.new("interop").map(&:jid)
I.check("stop!: both unfinished slow jobs are back in Sidekiq::Queue('interop') (#{waiting})") { (slow - waiting).empty? }
I.check("stop!: the slow jobs were asked to stop") { slow.all? { |j| recs.call(j, "interrupted").size == 1 } }
I.check("quiet: the job pushed while quiet did not run and is waiting") do
  recs.call(after_quiet).empty? && waiting.include?(after_quiet)
end
leftover = Sidekiq.redis { |c| c.keys("errand:inprogress:*:queue:*").sum { |k| c.llen(k) } }
I.check_equal("no job left in errand's in-progress lists", 0, leftover)
I.done
