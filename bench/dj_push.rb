# Creates the delayed_jobs table (Delayed Job's generator's schema) and
# enqueues N no-op jobs in one transaction.
# Usage: ruby bench/dj_push.rb DB N
require_relative "dj_common"

n = Integer(ARGV.fetch(1))
ActiveRecord::Schema.define do
  create_table :delayed_jobs, force: true do |t|
    t.integer :priority, default: 0, null: false
    t.integer :attempts, default: 0, null: false
    t.text :handler, null: false
    t.text :last_error
    t.datetime :run_at
    t.datetime :locked_at
    t.datetime :failed_at
    t.string :locked_by
    t.string :queue
    t.timestamps null: true
  end
  add_index :delayed_jobs, [:priority, :run_at], name: "delayed_jobs_priority"
end
ActiveRecord::Base.transaction { n.times { |i| Delayed::Job.enqueue(NoopJob.new(i)) } }
