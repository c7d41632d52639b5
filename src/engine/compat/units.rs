//! Docker's sizes (go-units): decimal `HumanSize` with a precision (three significant digits in
//! pull progress, `images` and `ps -s`; four in "Total reclaimed space") and binary `BytesSize`
//! (`info`'s memory). One formatter, so the commands agree.

const DECIMAL: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
const BINARY: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// `bytes` in decimal units with `precision` significant digits (`4.26MB` at 3, `1.536kB` at 4).
pub fn human_size_with_precision(bytes: u64, precision: usize) -> String {
    if bytes < 1000 {
        return format!("{bytes}B");
    }
    scaled(bytes, 1000.0, &DECIMAL, precision)
}

/// Docker's `HumanSize`: four significant digits, decimal units.
pub fn human_size(bytes: u64) -> String {
    human_size_with_precision(bytes, 4)
}

/// Docker's `BytesSize`: four significant digits, binary units (`7.763GiB`).
pub fn bytes_size(bytes: u64) -> String {
    scaled(bytes, 1024.0, &BINARY, 4)
}

/// Go's `%.{precision}g` of `bytes` in the largest unit below `base`, trailing zeros cut.
fn scaled(bytes: u64, base: f64, units: &[&str], precision: usize) -> String {
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= base && unit + 1 < units.len() {
        value /= base;
        unit += 1;
    }
    let int_digits = if value >= 1.0 {
        value.log10().floor() as usize + 1
    } else {
        1
    };
    let text = format!("{:.*}", precision.saturating_sub(int_digits), value);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}{}", units[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_digit_sizes_as_in_progress_and_lists() {
        let s = |b| human_size_with_precision(b, 3);
        assert_eq!(s(999), "999B");
        assert_eq!(s(4_260_000), "4.26MB");
        assert_eq!(s(12_300_000), "12.3MB");
        assert_eq!(s(1_000_000), "1MB");
        assert_eq!(s(123_456_789), "123MB");
    }

    #[test]
    fn four_digit_sizes_as_in_totals() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1000), "1kB");
        assert_eq!(human_size(1536), "1.536kB");
        assert_eq!(human_size(12_345_678), "12.35MB");
        assert_eq!(human_size(999_999_999), "1000MB");
    }

    #[test]
    fn binary_sizes_as_in_info() {
        assert_eq!(bytes_size(0), "0B");
        assert_eq!(bytes_size(512), "512B");
        assert_eq!(bytes_size(1024), "1KiB");
        assert_eq!(bytes_size(1536), "1.5KiB");
        assert_eq!(bytes_size(8 << 30), "8GiB");
        assert_eq!(bytes_size(8_335_986_688), "7.763GiB");
    }
}
