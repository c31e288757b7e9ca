# Shared by bench/dj_push.rb and bench/dj_worker.rb: the SQLite connection
# and the no-op job (a Struct, as Delayed Job's own examples).
require "logger"
require "active_record"
require "delayed_job"
require "delayed_job_active_record"

ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: ARGV.fetch(0))
ActiveRecord::Base.logger = nil
ActiveRecord::Migration.verbose = false

NoopJob = Struct.new(:idx) do
  def perform; end
end
