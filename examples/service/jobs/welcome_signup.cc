#include "jobs/welcome_signup.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

// Stands in for sending an email: appends a line to welcomed.txt in
// $SERVICE_OUT (or the worker's directory). Appending twice is harmless.
void WelcomeSignup::perform(std::int64_t user_id, std::string email) {
  const char* dir = std::getenv("SERVICE_OUT");
  const std::filesystem::path out = std::filesystem::path(dir && *dir ? dir : ".") / "welcomed.txt";
  std::ofstream(out, std::ios::app)
      << "welcomed " << user_id << " " << email << " " << errand::current_job().jid << "\n";
}

ERRAND_JOB(WelcomeSignup);
