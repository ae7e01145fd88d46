//! Retry timing shared by the webhook sender and the fetchers: jittered exponential backoff
//! and `Retry-After`.

use std::time::{Duration, SystemTime};

/// Jittered exponential backoff: retry `n` (1-based) waits a uniformly drawn share of
/// `base · 2^(n−1)` (capped at `max`) between one half and all of it. Keeping the lower half
/// out means a later retry never waits less than an earlier one (below the cap) while
/// concurrent clients still spread out.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    base: Duration,
    max: Duration,
    rng: u64,
}

impl Backoff {
    /// A backoff seeded from the time and process id (jitter needs no cryptographic
    /// randomness, only different seeds in different clients).
    pub(crate) fn new(base: Duration, max: Duration) -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Self::seeded(base, max, u64::from(std::process::id()) << 32 ^ u64::from(nanos))
    }

    /// A backoff with a fixed seed.
    pub(crate) fn seeded(base: Duration, max: Duration, seed: u64) -> Self {
        Backoff { base, max, rng: seed }
    }

    /// The wait before retry `n` (1-based).
    pub(crate) fn wait(&mut self, n: u32) -> Duration {
        let step = self.base.saturating_mul(1u32 << n.saturating_sub(1).min(20)).min(self.max);
        // SplitMix64 step.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        #[allow(clippy::cast_precision_loss)]
        let share = (z >> 11) as f64 / (1u64 << 53) as f64;
        step.mul_f64(0.5 + 0.5 * share)
    }
}

/// A `Retry-After` value (delay in seconds, or an HTTP date read against `now`), capped at
/// `cap`; `None` when it is neither.
pub(crate) fn retry_after(value: &str, now: SystemTime, cap: Duration) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or_default()
    };
    Some(wait.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_capped() {
        let cap = Duration::from_secs(60);
        let now = SystemTime::now();
        assert_eq!(retry_after("3", now, cap), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("3600", now, cap), Some(cap));
        let soon = httpdate::fmt_http_date(now + Duration::from_secs(30));
        let d = retry_after(&soon, now, cap).unwrap();
        assert!(d <= Duration::from_secs(30) && d >= Duration::from_secs(29), "{d:?}");
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now, cap), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now, cap), None);
    }

    #[test]
    fn backoff_grows_and_is_capped_with_jitter() {
        let mut b = Backoff::seeded(Duration::from_millis(100), Duration::from_secs(1), 7);
        let mut previous = Duration::ZERO;
        for n in 1..=8 {
            let step = Duration::from_millis(100 * (1 << (n - 1))).min(Duration::from_secs(1));
            let w = b.wait(n);
            assert!(w >= step / 2 && w <= step, "retry {n}: {w:?} vs {step:?}");
            if step < Duration::from_secs(1) {
                assert!(w >= previous, "retry {n} waits less than the one before");
            }
            previous = w;
        }
    }
}
