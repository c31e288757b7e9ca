# Malformed payloads pushed raw into a queue (not JSON, not an object,
# missing fields, wrong types, arguments that do not fit perform()) go to
# Sidekiq's dead set with a clear error, and the errand worker goes on.
require_relative "helper"
require "securerandom"

I = Interop
worker = I.start_worker(queues: ["interop"], concurrency: 2)
out = worker.out

def raw_push(text)
  Sidekiq.redis do |c|
    c.sadd("queues", "interop")
    c.lpush("queue:interop", text)
  end
end

jid = -> { SecureRandom.hex(12) }
# [description, raw text, jid or nil, text the error_message must contain or nil]
cases = [
  ["not JSON", "this is {not json", :wrapped, "payload is not valid JSON"],
  ["truncated JSON", '{"class":"Interop::EchoJob","args":[1', :wrapped, "payload is not valid JSON"],
  ["a JSON array, not an object", '["Interop::EchoJob", [1]]', :wrapped, "payload is not a JSON object"],
  ["a JSON number, not an object", "42", :wrapped, "payload is not a JSON object"],
]
j1, j2, j3, j4, j5, j6 = 6.times.map { jid.call }
cases += [
  ["missing class", JSON.generate("args" => [1], "jid" => j1, "queue" => "interop", "retry" => true), j1, "class"],
  ["missing args", JSON.generate("class" => "Interop::EchoJob", "jid" => j2, "queue" => "interop", "retry" => true), j2, "args"],
  ["args not an array", JSON.generate("class" => "Interop::EchoJob", "args" => "oops", "jid" => j3, "queue" => "interop", "retry" => true), j3, "args"],
  ["class not a string", JSON.generate("class" => 42, "args" => [], "jid" => j4, "queue" => "interop", "retry" => true), j4, "class"],
  ["wrong argument types for perform()", JSON.generate("class" => "Interop::TypedJob", "args" => ["not a number", 1, {}, "no", 1], "jid" => j5, "queue" => "interop", "retry" => true), j5, "argument 1"],
  ["wrong argument count", JSON.generate("class" => "Interop::EchoJob", "args" => [1, 2], "jid" => j6, "queue" => "interop", "retry" => true), j6, "argument"],
]
cases.each { |_, text, _, _| raw_push(text) }
good = I.errand_cli("enqueue", "Interop::EchoJob", '["after the bad ones"]', "-q", "interop").strip

I.wait_for("the good job pushed after the malformed ones to run") { I.records(out).any? { |r| r["jid"] == good } }
I.wait_for("#{cases.size} entries in the dead set", last: -> { Sidekiq::DeadSet.new.size }) do
  Sidekiq::DeadSet.new.size == cases.size
end
raw_dead = Sidekiq.redis { |c| c.zrange("dead", 0, -1) }
cases.each do |name, text, id, needle|
  if id == :wrapped
    # Text that is not a JSON object (not JSON at all, or an array or a
    # number) would break Sidekiq's DeadSet#each, which indexes every entry
    # as a hash: errand wraps it in a payload, the text kept whole as args[0].
    entry = Sidekiq::DeadSet.new.find { |e| e.item.is_a?(Hash) && e.args == [text] } ||
      I.fail!("#{name}: no dead entry with args [#{text}]: #{raw_dead}")
    I.check_equal("#{name}: wrapped, error_class", "errand::BadPayload", entry["error_class"])
    I.check_equal("#{name}: wrapped, error_message", needle, entry["error_message"])
    next
  end
  entry = Sidekiq::DeadSet.new.find_job(id) || I.fail!("#{name}: jid #{id} not in the dead set: #{raw_dead}")
  I.check("#{name}: error_class #{entry["error_class"].inspect}") { entry["error_class"].is_a?(String) && !entry["error_class"].empty? }
  I.check("#{name}: error_message #{entry["error_message"].inspect} mentions #{needle.inspect}") do
    entry["error_message"].is_a?(String) && entry["error_message"].include?(needle)
  end
  I.check("#{name}: never retried") { Sidekiq::RetrySet.new.find_job(id).nil? }
end
I.check_equal("the queue is empty", 0, Sidekiq::Queue.new("interop").size)
I.check("Sidekiq::DeadSet can list every entry, malformed ones included") { Sidekiq::DeadSet.new.map(&:value).size == cases.size }
I.check("the worker is still running") { I.wait_exit(worker, timeout: 0).nil? }
I.process_of(worker) # still heartbeating: listed in Sidekiq::ProcessSet
second = I.errand_cli("enqueue", "Interop::EchoJob", '["still working"]', "-q", "interop").strip
I.wait_for("another good job to run") { I.records(out).any? { |r| r["jid"] == second } }
I.stop_worker(worker)
I.check_equal("errand worker exits 0", 0, worker.status.exitstatus)
I.done
