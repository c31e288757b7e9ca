# Batch jobs in the queue: errand::Batch and errand::Workflow (pushed from
# tests/interop_test.cc, bid in BATCH_BID, workflow in WORKFLOW_BID) add
# "bid" (and "cb_bid"/"cb_event" on callbacks) to Sidekiq's job hash.
# Sidekiq's API and its Web UI read such jobs like any other, then an errand
# worker runs them, and the batch's callback lands in the queue once.
require_relative "stand_ins"
require_relative "web_browser"

I = Interop
browser = Browser.new

bid = ENV.fetch("BATCH_BID")
wf = ENV.fetch("WORKFLOW_BID")
queue = Sidekiq::Queue.new("interop")
jobs = queue.to_a
I.check_equal("jobs waiting (3 batch members, 1 workflow root)", 4, jobs.size)
members = jobs.select { |j| j["bid"] == bid }
I.check_equal("batch members read through Sidekiq::Queue", 3, members.size)
I.check_equal("workflow root carries its bid", 1, jobs.count { |j| j["bid"] == wf })
jobs.each do |j|
  I.check_equal("#{j.jid}: display_class", "Interop::EchoJob", j.display_class)
  I.fail!("#{j.jid}: args unreadable") unless j.args.is_a?(Array)
end

browser.get("/queues/interop")
res = browser.last_response
I.check_equal("GET /queues/interop: HTTP status", 200, res.status)
jobs.each { |j| I.fail!("queue page does not show #{j.jid}") unless res.body.include?(j.jid) }
I.check("Sidekiq's Web UI lists batch jobs", true)

worker = I.start_worker(queues: ["interop"], concurrency: 2)
# 3 members + the workflow's 2 steps + the batch's success callback.
I.wait_for("6 jobs processed", last: -> { Sidekiq::Stats.new.processed }) do
  Sidekiq::Stats.new.processed >= 6 && Sidekiq::Queue.new("interop").size == 0
end
callbacks = I.records(worker.out).select { |r| r["args"] == [["batch done"]] || r["args"] == ["batch done"] }
I.check_equal("the success callback ran once", 1, callbacks.size)
I.stop_worker(worker)
browser.get("/")
I.check_equal("GET / after the run: HTTP status", 200, browser.last_response.status)
I.done
