//! Turning znode bytes into something readable: pretty JSON when it parses, text when it is
//! UTF-8, a hex dump when it is binary; long data is cut for display with a notice.

/// Bytes shown in the data panel before it is cut (the full data stays in memory).
pub const DISPLAY_LIMIT_BYTES: usize = 64 * 1024;
/// Bytes per hex-dump line.
const HEX_BYTES_PER_LINE: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    Empty,
    Json,
    Text,
    Binary,
}

impl DataKind {
    pub fn label(self) -> &'static str {
        match self {
            DataKind::Empty => "empty",
            DataKind::Json => "json",
            DataKind::Text => "text",
            DataKind::Binary => "binary",
        }
    }
}

/// Display-ready data: the kind, the lines, and whether the input was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataView {
    pub kind: DataKind,
    pub lines: Vec<String>,
    pub total_bytes: usize,
    pub truncated: bool,
}

pub fn render_data(data: &[u8]) -> DataView {
    render_data_limited(data, DISPLAY_LIMIT_BYTES)
}

pub fn render_data_limited(data: &[u8], limit: usize) -> DataView {
    let total_bytes = data.len();
    if data.is_empty() {
        return DataView { kind: DataKind::Empty, lines: Vec::new(), total_bytes, truncated: false };
    }
    match std::str::from_utf8(data) {
        Ok(text) => {
            // JSON is parsed whole (a cut document would not parse); only the output is cut.
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
                if value.is_object() || value.is_array() {
                    let pretty = serde_json::to_string_pretty(&value).unwrap_or_else(|_| text.to_string());
                    let (shown, truncated) = cut(&pretty, limit);
                    return DataView { kind: DataKind::Json, lines: lines_of(shown), total_bytes, truncated };
                }
            }
            if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
                return hex_view(data, limit);
            }
            let (shown, truncated) = cut(text, limit);
            DataView { kind: DataKind::Text, lines: lines_of(shown), total_bytes, truncated }
        }
        Err(_) => hex_view(data, limit),
    }
}

fn lines_of(s: &str) -> Vec<String> {
    s.lines().map(str::to_string).collect()
}

/// Cuts at a char boundary at or below `limit` bytes.
fn cut(s: &str, limit: usize) -> (&str, bool) {
    if s.len() <= limit {
        return (s, false);
    }
    let mut end = limit;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

fn hex_view(data: &[u8], limit: usize) -> DataView {
    let shown = &data[..data.len().min(limit)];
    let lines = shown
        .chunks(HEX_BYTES_PER_LINE)
        .enumerate()
        .map(|(i, chunk)| {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let ascii: String =
                chunk.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
            format!("{:08x}  {:<47}  {}", i * HEX_BYTES_PER_LINE, hex.join(" "), ascii)
        })
        .collect();
    DataView { kind: DataKind::Binary, lines, total_bytes: data.len(), truncated: shown.len() < data.len() }
}

/// Human byte counts: `512 B`, `1.5 KiB`, `2.0 MiB`.
pub fn human_bytes(n: usize) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if f < KIB {
        format!("{n} B")
    } else if f < KIB * KIB {
        format!("{:.1} KiB", f / KIB)
    } else {
        format!("{:.1} MiB", f / KIB / KIB)
    }
}

/// `2026-11-26 20:53:12` (UTC) from milliseconds since the epoch.
pub fn utc_timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `20:53:12` (UTC) from milliseconds since the epoch.
pub fn utc_time(ms: i64) -> String {
    let rem = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_pretty_printed_in_order() {
        let v = render_data(br#"{"b":1,"a":[true]}"#);
        assert_eq!(v.kind, DataKind::Json);
        assert_eq!(v.lines, vec!["{", "  \"b\": 1,", "  \"a\": [", "    true", "  ]", "}"]);
        assert!(!v.truncated);
    }

    #[test]
    fn text_binary_and_empty() {
        assert_eq!(render_data(b"hello\nworld").kind, DataKind::Text);
        assert_eq!(render_data(b"hello\nworld").lines, vec!["hello", "world"]);
        let bin = render_data(&[0xff, 0x00, 0x41]);
        assert_eq!(bin.kind, DataKind::Binary);
        assert_eq!(bin.lines[0], format!("00000000  {:<47}  {}", "ff 00 41", "..A"));
        assert_eq!(render_data(b"").kind, DataKind::Empty);
        // Valid UTF-8 with control characters is still binary to an operator.
        assert_eq!(render_data(b"a\x00b").kind, DataKind::Binary);
    }

    #[test]
    fn long_data_is_cut_with_a_flag() {
        let text = "é".repeat(100); // 200 bytes, two per char
        let v = render_data_limited(text.as_bytes(), 51);
        assert!(v.truncated);
        assert_eq!(v.lines[0].len(), 50);
        let bin = render_data_limited(&[0xffu8; 100], 32);
        assert!(bin.truncated);
        assert_eq!(bin.lines.len(), 2);
    }

    #[test]
    fn utc_times() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(utc_timestamp(1_795_640_005_000), "2026-11-25 20:53:25");
        assert_eq!(utc_timestamp(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(utc_time(1_795_640_005_999), "20:53:25");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(10), "10 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
