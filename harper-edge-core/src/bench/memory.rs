//! Peak resident memory of loading and running one model, from `/proc/self` (Linux).
//!
//! Before a model loads, the kernel's peak-RSS mark of the process is reset (writing `5` to
//! `/proc/self/clear_refs`, Linux ≥ 4.0) and the current RSS (`VmRSS`) read; after its last
//! call the peak (`VmHWM`) is read. The difference is what loading and running the model
//! added at its highest. It is a process-wide measure: anything else the process does at the
//! same time counts too, and memory the allocator kept from earlier models can be reused
//! without showing. Elsewhere (or when the mark cannot be reset) it is `None`, never a guess.

use std::fs;

/// A peak-memory measurement in progress.
#[derive(Debug)]
pub(crate) struct PeakRss {
    before: Option<u64>,
}

impl PeakRss {
    /// Resets the process's peak mark and notes the current RSS.
    pub(crate) fn start() -> PeakRss {
        let reset = fs::write("/proc/self/clear_refs", "5").is_ok();
        PeakRss { before: if reset { status_bytes("VmRSS:") } else { None } }
    }

    /// Bytes the peak rose above the RSS at [`PeakRss::start`]; `None` when not measurable.
    pub(crate) fn finish(&self) -> Option<u64> {
        let before = self.before?;
        Some(status_bytes("VmHWM:")?.saturating_sub(before))
    }
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_large_allocation_shows_in_the_peak() {
        let m = PeakRss::start();
        assert!(m.before.is_some(), "the peak mark can be reset on Linux");
        // 64 MiB touched page by page, then freed: the peak keeps it.
        let mut v = vec![0u8; 64 << 20];
        for i in (0..v.len()).step_by(4096) {
            v[i] = 1;
        }
        std::hint::black_box(&v);
        drop(v);
        let peak = m.finish().unwrap();
        assert!(peak >= 60 << 20, "peak rose by {peak} bytes");
    }
}
