# Line charts as SVG, written by hand (no plotting package needed): one chart
# per call, x on a log or linear scale, y linear from 0, one line per series.
# Used by bench/scaling.rb.
module Plot
  W = 560
  H = 320
  L = 70 # left margin (y labels)
  R = 150 # right margin (legend)
  T = 36
  B = 50
  COLORS = %w[#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #8c564b].freeze

  def self.nice(v)
    return 1.0 if v <= 0
    mag = 10**Math.log10(v).floor
    [1, 2, 2.5, 5, 10].map { |m| m * mag }.find { |c| c >= v }.to_f
  end

  def self.label(v)
    return format("%.0fM", v / 1e6) if v >= 1e6 && (v % 1e6).zero?
    return format("%.1fM", v / 1e6) if v >= 1e6
    return format("%.0fk", v / 1e3) if v >= 1e4
    v == v.round ? v.round.to_s : format("%.2g", v)
  end

  def self.esc(s) = s.to_s.gsub("&", "&amp;").gsub("<", "&lt;").gsub(">", "&gt;")

  # series: { "name" => [[x, y], ...] }; writes `path`.
  def self.chart(path, title:, xlabel:, ylabel:, series:, log_x: false)
    points = series.values.flatten(1)
    return if points.empty?
    xs = points.map(&:first)
    ymax = nice(points.map(&:last).max * 1.1)
    xmin, xmax = xs.min.to_f, xs.max.to_f
    xmax = xmin + 1 if xmax == xmin
    fx = if log_x
      ->(x) { L + (Math.log10(x) - Math.log10(xmin)) / (Math.log10(xmax) - Math.log10(xmin)) * (W - L - R) }
    else
      ->(x) { L + (x - xmin) / (xmax - xmin) * (W - L - R) }
    end
    fy = ->(y) { H - B - y / ymax * (H - T - B) }
    out = []
    out << %(<svg xmlns="http://www.w3.org/2000/svg" width="#{W}" height="#{H}" font-family="sans-serif" font-size="12">)
    out << %(<rect width="#{W}" height="#{H}" fill="white"/>)
    out << %(<text x="#{W / 2}" y="20" text-anchor="middle" font-size="14">#{esc(title)}</text>)
    5.times do |i|
      y = ymax * i / 4
      out << %(<line x1="#{L}" x2="#{W - R}" y1="#{fy.(y).round(1)}" y2="#{fy.(y).round(1)}" stroke="#ddd"/>)
      out << %(<text x="#{L - 6}" y="#{(fy.(y) + 4).round(1)}" text-anchor="end">#{label(y)}</text>)
    end
    xs.uniq.sort.each do |x|
      out << %(<text x="#{fx.(x).round(1)}" y="#{H - B + 16}" text-anchor="middle">#{label(x)}</text>)
    end
    out << %(<line x1="#{L}" x2="#{W - R}" y1="#{H - B}" y2="#{H - B}" stroke="#333"/>)
    out << %(<line x1="#{L}" x2="#{L}" y1="#{T}" y2="#{H - B}" stroke="#333"/>)
    out << %(<text x="#{(L + W - R) / 2}" y="#{H - 12}" text-anchor="middle">#{esc(xlabel)}</text>)
    out << %(<text x="16" y="#{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 #{(T + H - B) / 2})">#{esc(ylabel)}</text>)
    series.each_with_index do |(name, pts), i|
      c = COLORS[i % COLORS.size]
      pts = pts.sort_by(&:first)
      d = pts.map { |x, y| "#{fx.(x).round(1)},#{fy.(y).round(1)}" }.join(" ")
      out << %(<polyline points="#{d}" fill="none" stroke="#{c}" stroke-width="2"/>)
      pts.each { |x, y| out << %(<circle cx="#{fx.(x).round(1)}" cy="#{fy.(y).round(1)}" r="3" fill="#{c}"/>) }
      out << %(<line x1="#{W - R + 12}" x2="#{W - R + 32}" y1="#{T + 10 + i * 18}" y2="#{T + 10 + i * 18}" stroke="#{c}" stroke-width="2"/>)
      out << %(<text x="#{W - R + 38}" y="#{T + 14 + i * 18}">#{esc(name)}</text>)
    end
    out << "</svg>"
    File.write(path, out.join("\n") + "\n")
  end
end
