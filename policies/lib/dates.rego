# Helpers for RFC 3339 timestamps: parse safely, and measure ages against context.now.
package affidavit.lib.dates

_rfc3339 := `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`

_date_only := `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`

# ns(ts) is the timestamp in nanoseconds since the epoch; undefined when ts is not RFC 3339
# (a date alone counts as midnight UTC). Never raises, unlike time.parse_rfc3339_ns.
ns(ts) := time.parse_rfc3339_ns(ts) if {
	is_string(ts)
	regex.match(_rfc3339, ts)
} else := time.parse_rfc3339_ns(concat("", [ts, "T00:00:00Z"])) if {
	is_string(ts)
	regex.match(_date_only, ts)
}

# valid(ts) is true when ts parses.
valid(ts) if ns(ts)

# now_ns is the run's clock: context.now, else the engine's pinned time.now_ns().
now_ns := n if {
	n := ns(input.context.now)
} else := time.now_ns()

hour_ns := 3600 * 1000000000

day_ns := 24 * hour_ns

# age_days(ts) is how many days before now ts lies (fractional; negative in the future).
age_days(ts) := (now_ns - ns(ts)) / day_ns

# age_hours(ts) is how many hours before now ts lies (fractional; negative in the future).
age_hours(ts) := (now_ns - ns(ts)) / hour_ns

# hours_between(a, b) is b - a in hours.
hours_between(a, b) := (ns(b) - ns(a)) / hour_ns

# round1(x) is x rounded to one decimal, for messages.
round1(x) := round(x * 10) / 10

# day(ts) is the date part of a timestamp, for messages.
day(ts) := substring(ts, 0, 10) if {
	is_string(ts)
	count(ts) >= 10
} else := "unknown date"
