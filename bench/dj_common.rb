# Shared by bench/dj_push.rb and bench/dj_worker.rb: the database connection
# (a SQLite file, or a postgresql:// URI) and the no-op job (a Struct, as
# Delayed Job's own examples).
require "logger"
require "active_record"
require "delayed_job"
require "delayed_job_active_record"

db = ARGV.fetch(0)
if db.start_with?("postgresql://", "postgres://")
  ActiveRecord::Base.establish_connection(db)
else
  ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: db)
end
ActiveRecord::Base.logger = nil
ActiveRecord::Migration.verbose = false

NoopJob = Struct.new(:idx) do
  def perform; end
end
