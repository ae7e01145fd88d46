//! Text of the report: HTML escaping, readable numbers, UTC times.

use std::fmt::Write;

use crate::clock::Timestamp;

/// Escapes `s` for HTML text and for quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

/// Appends `s` to `out`, escaped as [`escape`] does.
pub(crate) fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `s` cut to at most `max` characters, an ellipsis marking the cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// A number with up to 4 significant digits, trailing zeros dropped; scientific notation
/// below 0.001 and from a million up (`3.2e-15`, `1.5e6`).
pub(crate) fn num(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "−∞".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-3..1e6).contains(&a) {
        return sci(x, 1);
    }
    // Digits after the point for 4 significant digits.
    let digits = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    trim_zeros(format!("{x:.digits$}"))
}

/// A p-value: scientific below 0.001 (`3.2e-15`), else 3 significant digits; `< 1e-300`
/// for 0 (an underflow: the p-value is too small for a double, not zero). Plain text: escape
/// it for HTML.
pub(crate) fn p_value(p: f64) -> String {
    if p > 0.0 && p < 1e-3 {
        return sci(p, 1);
    }
    if p == 0.0 {
        return "< 1e-300".into();
    }
    if !p.is_finite() {
        return num(p);
    }
    let digits = (2 - p.log10().floor() as i32).clamp(0, 6) as usize;
    trim_zeros(format!("{p:.digits$}"))
}

fn sci(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$e}");
    // `1.0e-5` reads better as `1e-5`.
    match s.split_once('e') {
        Some((m, e)) => format!("{}e{e}", trim_zeros(m.to_string())),
        None => s,
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        t.to_string()
    } else {
        s
    }
}

/// A latency in milliseconds: `0.42 ms`, `4.2 ms`, `123 ms`, `1.23 s`.
pub(crate) fn latency(ms: f64) -> String {
    if !ms.is_finite() {
        return num(ms);
    }
    if ms >= 1000.0 {
        return format!("{} s", trim_zeros(format!("{:.2}", ms / 1000.0)));
    }
    if ms >= 100.0 {
        return format!("{ms:.0} ms");
    }
    if ms >= 10.0 {
        return format!("{} ms", trim_zeros(format!("{ms:.1}")));
    }
    format!("{} ms", trim_zeros(format!("{ms:.2}")))
}

/// A share in `[0, 1]` as a percentage: `0 %`, `0.05 %`, `2.5 %`, `100 %`.
pub(crate) fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 || !p.is_finite() {
        return format!("{} %", num(p));
    }
    let s = if p.abs() >= 10.0 {
        trim_zeros(format!("{p:.1}"))
    } else if p.abs() >= 0.1 {
        trim_zeros(format!("{p:.2}"))
    } else {
        num(p)
    };
    format!("{s} %")
}

/// An integer with thousands separators: `1,000,000`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Calendar date `(year, month, day)` of a day count since 1970-01-01 (proleptic Gregorian;
/// Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The parts of a UTC time: `(year, month, day, hour, minute, second)`.
fn parts(t: Timestamp) -> (i64, u32, u32, u32, u32, u32) {
    let ms = t.as_millis();
    let (days, rest) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000) / 1000);
    let (y, mo, d) = civil_from_days(days);
    let rest = rest as u32;
    (y, mo, d, rest / 3600, rest / 60 % 60, rest % 60)
}

/// `2026-01-01 00:00:00 UTC`.
pub(crate) fn time(t: Timestamp) -> String {
    let (y, mo, d, h, mi, s) = parts(t);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// A time-axis label for ticks `step_ms` apart: `14:05`, `01-02 14:00`, `2026-01-02`.
pub(crate) fn tick_time(t: Timestamp, step_ms: i64) -> String {
    let (y, mo, d, h, mi, _) = parts(t);
    if step_ms >= 86_400_000 {
        format!("{y:04}-{mo:02}-{d:02}")
    } else if h == 0 && mi == 0 {
        format!("{mo:02}-{d:02} {h:02}:{mi:02}")
    } else {
        format!("{h:02}:{mi:02}")
    }
}

/// A duration in words: `5 min`, `2 h`, `1 d`.
pub(crate) fn span(ms: i64) -> String {
    let mut out = String::new();
    let _ = match ms {
        m if m % 86_400_000 == 0 && m > 0 => write!(out, "{} d", m / 86_400_000),
        m if m % 3_600_000 == 0 && m > 0 => write!(out, "{} h", m / 3_600_000),
        m if m % 60_000 == 0 && m > 0 => write!(out, "{} min", m / 60_000),
        m => write!(out, "{} s", num(m as f64 / 1000.0)),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(p_value(3.2e-15), "3.2e-15");
        assert_eq!(p_value(1e-5), "1e-5");
        assert_eq!(p_value(0.0432), "0.0432");
        assert_eq!(p_value(0.5123), "0.512");
        assert_eq!(p_value(1.0), "1");
        assert_eq!(p_value(0.0), "< 1e-300");
        assert_eq!(num(1234.5678), "1235");
        assert_eq!(num(0.123456), "0.1235");
        assert_eq!(num(2.5e7), "2.5e7");
        assert_eq!(latency(0.4234), "0.42 ms");
        assert_eq!(latency(42.25), "42.2 ms");
        assert_eq!(latency(1234.0), "1.23 s");
        assert_eq!(percent(0.025), "2.5 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(count(999), "999");
        assert_eq!(escape("<script>'&\""), "&lt;script&gt;&#39;&amp;&quot;");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(span(300_000), "5 min");
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(time(Timestamp::from_millis(1_767_225_600_000)), "2026-01-01 00:00:00 UTC");
        assert_eq!(time(Timestamp::from_millis(951_782_400_000)), "2000-02-29 00:00:00 UTC");
        assert_eq!(
            tick_time(Timestamp::from_millis(1_767_225_600_000 + 3_900_000), 60_000),
            "01:05"
        );
    }
}
