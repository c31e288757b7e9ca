// Small helpers for server-rendered HTML. Every string that did not come
// from this file goes through esc(); nothing else is trusted.
#pragma once

#include <string>
#include <string_view>

#include "web/app.h"

namespace errand::web {

/// Escapes & < > " ' for text and attribute values.
std::string esc(std::string_view s);
/// Percent-encodes a URL component (path segment or query value).
std::string url_encode(std::string_view s);
/// `s` cut to `n` bytes (at a UTF-8 boundary) with "…" appended when cut.
std::string truncate(std::string_view s, std::size_t n);

/// What a page handler works with.
struct PageCtx {
  App& app;
  const httplib::Request& req;
  httplib::Response& res;
  Session session;
};

/// The full document: head, navigation (with live counters), flash notice, body, footer.
std::string layout(PageCtx& ctx, std::string_view title, std::string_view active,
                   const std::string& body);
/// <input type=hidden name=_csrf ...> plus the `back` field (where to return).
std::string form_fields(const PageCtx& ctx, std::string_view back);
/// "« 1 2 3 »" links for a list of `total` rows, keeping `q`.
std::string pager(std::string_view base, std::size_t total, std::size_t offset, std::size_t limit,
                  std::string_view q);
/// A <time> element: relative text, absolute UTC as its title.
std::string time_html(double epoch, double now);

}  // namespace errand::web
