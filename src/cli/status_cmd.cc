// `errand status JID` and `errand cancel JID`: a job's status (and result)
// and its cancellation, through errand::Client, on the stores of the config.
#include <iostream>

#include "cli/cli.h"
#include "core/redact.h"
#include "errand/payload_limits.h"
#include "store/status_json.h"

namespace errand::cli {

namespace {

struct StatusFlags {
  StoreFlags store;
  std::string jid;
  bool json = false;
  double wait_seconds = 0;  ///< > 0: wait this long for the job to end first
};

Result<Client> client_for(const StoreFlags& flags) {
  auto config = resolve_config(flags);
  if (!config) return config.error();
  auto queues = open_queues(*config);
  if (!queues)
    return Error(queues.error().code(),
                 "cannot open store " + config->store + ": " + queues.error().message());
  return Client(std::move(queues).value());
}

void print_human(const std::string& jid, const JobStatus& s) {
  std::cout << jid << ": " << to_string(s.state);
  if (s.cancel_requested) std::cout << " (cancel requested)";
  if (s.updated_at > 0) std::cout << ", " << relative_time(s.updated_at);
  std::cout << "\n";
  if (!s.process.empty()) std::cout << "  process: " << s.process << "\n";
  if (s.progress) {
    std::cout << "  progress: " << static_cast<int>(*s.progress * 100 + 0.5) << "%";
    if (!s.progress_message.empty()) std::cout << " " << terminal_safe(s.progress_message);
    std::cout << "\n";
  }
  if (!s.error.empty()) std::cout << "  error:   " << s.error << "\n";
  if (s.state == JobState::succeeded) std::cout << "  result:  " << s.result << "\n";
}

int run_status(const StatusFlags& f) {
  auto client = client_for(f.store);
  if (!client) return fail_with(client.error());
  auto st =
      f.wait_seconds > 0
          ? client->wait(
                f.jid, std::chrono::milliseconds(static_cast<std::int64_t>(f.wait_seconds * 1000)))
          : client->status(f.jid);
  if (!st) return fail_with("status failed: " + st.error().message());
  if (f.json)
    std::cout << status_json(f.jid, *st).dump(-1, ' ', false, Json::error_handler_t::replace)
              << "\n";
  else
    print_human(f.jid, *st);
  return st->state == JobState::unknown ? kError : kOk;
}

int run_cancel(const StatusFlags& f) {
  auto client = client_for(f.store);
  if (!client) return fail_with(client.error());
  auto st = client->cancel(f.jid);
  if (!st) return fail_with("cancel failed: " + st.error().message());
  const char* what = "";
  switch (*st) {
    case JobState::cancelled:
      what = "cancelled (removed before it ran)";
      break;
    case JobState::running:
      what = "cancel requested: the worker running it stops it";
      break;
    case JobState::unknown:
      what = "no such job known yet: a cancel request is kept in case it appears";
      break;
    default:
      what = "already ended; nothing to cancel";
      break;
  }
  if (f.json)
    std::cout << Json{{"jid", f.jid}, {"state", to_string(*st)}}.dump() << "\n";
  else
    std::cout << f.jid << ": " << what << " (" << to_string(*st) << ")\n";
  return kOk;
}

}  // namespace

void add_status_commands(CLI::App& app, Context& ctx) {
  {
    auto f = std::make_shared<StatusFlags>();
    auto* cmd = app.add_subcommand("status", "A job's status, last error and result");
    cmd->add_option("jid", f->jid, "the job id (what enqueue printed)")->required();
    add_store_flags(*cmd, f->store);
    cmd->add_flag("--json", f->json, "output JSON");
    cmd->add_option("--wait", f->wait_seconds, "wait up to this many seconds for the job to end")
        ->check(CLI::NonNegativeNumber);
    cmd->callback([&ctx, f] { ctx.action = [f] { return run_status(*f); }; });
  }
  {
    auto f = std::make_shared<StatusFlags>();
    auto* cmd = app.add_subcommand(
        "cancel", "Cancel a job: remove it if waiting, stop it where it runs otherwise");
    cmd->add_option("jid", f->jid, "the job id")->required();
    add_store_flags(*cmd, f->store);
    cmd->add_flag("--json", f->json, "output JSON");
    cmd->callback([&ctx, f] { ctx.action = [f] { return run_cancel(*f); }; });
  }
}

}  // namespace errand::cli
