# Sidekiq's own Web UI (Sidekiq::Web as a Rack app, through rack-test) over
# an errand worker's data: every page answers 200 and shows errand's
# process identity, job class names and jids.
require_relative "stand_ins"
require_relative "web_browser"

I = Interop
browser = Browser.new

def page(browser, path, must_include)
  browser.get(path)
  res = browser.last_response
  Interop.check_equal("GET #{path}: HTTP status", 200, res.status)
  body = res.body
  must_include.each do |text|
    Interop.fail!("GET #{path}: page does not show #{text.inspect}") unless body.include?(text)
  end
  Interop.check("GET #{path} shows #{must_include.join(", ")}", true)
  body
end

worker = I.start_worker(queues: ["interop"], concurrency: 2)
out = worker.out
p = I.process_of(worker)

# A running job, a retry, a scheduled job, a dead job, a waiting job.
slow = I::SlowJob.perform_async(300)
I.wait_for("the slow job to show in Sidekiq::Workers") do
  Sidekiq::Workers.new.any? { |_, _, w| w["payload"]["jid"] == slow }
end
fail_jid = I::FailLaterJob.perform_async("for the web")
retry_entry = I.wait_for("a retry entry") { Sidekiq::RetrySet.new.find_job(fail_jid) }
dead_jid = I::FailLaterJob.perform_async("to the morgue")
I.wait_for("a second retry entry") { Sidekiq::RetrySet.new.find_job(dead_jid) }.kill
dead_entry = Sidekiq::DeadSet.new.find_job(dead_jid) || I.fail!("killed job not in DeadSet")
sched_jid = I.errand_cli("enqueue", "Interop::EchoJob", '["web"]', "-q", "interop", "--in", "3600").strip
sched_entry = Sidekiq::ScheduledSet.new.find_job(sched_jid) || I.fail!("scheduled job not in ScheduledSet")
parked_jid = I.errand_cli("enqueue", "Interop::EchoJob", '["parked"]', "-q", "parked").strip
I.wait_for("2 failures counted", last: -> { Sidekiq::Stats.new.failed }) { Sidekiq::Stats.new.failed == 2 }

host_pid = "#{p["hostname"]}:#{p["pid"]}"
page(browser, "/", ["Dashboard", "Processed", "Failed", "Redis"])
page(browser, "/busy", [host_pid, p.identity, "interop", "Interop::SlowJob", slow])
page(browser, "/queues", ["interop", "parked"])
page(browser, "/queues/parked", [parked_jid, "Interop::EchoJob"])
page(browser, "/retries", [fail_jid, "Interop::FailLaterJob", "interop::InteropError"])
page(browser, "/retries/#{retry_entry.score}-#{fail_jid}", [fail_jid, "interop::InteropError", "for the web"])
page(browser, "/scheduled", [sched_jid, "Interop::EchoJob"])
page(browser, "/scheduled/#{sched_entry.score}-#{sched_jid}", [sched_jid, "web"])
page(browser, "/morgue", [dead_jid, "Interop::FailLaterJob"])
page(browser, "/morgue/#{dead_entry.score}-#{dead_jid}", [dead_jid, "to the morgue"])

browser.get("/stats")
I.check_equal("GET /stats: HTTP status", 200, browser.last_response.status)
stats = JSON.parse(browser.last_response.body)
I.check_equal("/stats: failed", 2, stats.dig("sidekiq", "failed"))
I.check_equal("/stats: busy", 1, stats.dig("sidekiq", "busy"))
I.check_equal("/stats: processes", 1, stats.dig("sidekiq", "processes"))

I.check("the slow job is still running (the pages were rendered while it ran)") do
  I.records(out).none? { |r| r["jid"] == slow && r["event"] != "started" }
end
I.stop_worker(worker)
I.check_equal("errand worker exits 0", 0, worker.status.exitstatus)
I.done
