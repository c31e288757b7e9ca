// What the page files share: the page frame, list limits and small parts.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "web/html.h"

namespace errand::web {

inline constexpr std::size_t kDefaultLimit = 25;
inline constexpr std::size_t kMaxLimit = 500;

/// Sends `body` in the full document (layout()).
void send_page(PageCtx& ctx, std::string_view title, std::string_view active,
               const std::string& body);
/// "The store answered with an error: ..."
std::string error_box(const Error& e);
/// The request's own path and query, without the flash parameters: where a
/// form on this page comes back to.
std::string current_url(const httplib::Request& req);
/// A GET form searching `action` with ?q=.
std::string search_box(std::string_view action, std::string_view q, std::string_view hint);
/// A queue's name linking to its page.
std::string queue_badge(std::string_view q);

/// A job's progress as a <progress> bar and "42% message" (pages_status.cc),
/// marked with its jid so that app.js refreshes it from /api/status/JID;
/// hidden while the job reported none.
std::string progress_html(std::string_view jid, const std::optional<double>& fraction,
                          std::string_view message);

/// GET /busy (pages_busy.cc).
void busy_page(PageCtx& ctx);

}  // namespace errand::web
