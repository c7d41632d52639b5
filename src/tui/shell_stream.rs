//! Line ends between the embedded terminal and a process without a tty: its output ends lines
//! with a bare LF (a terminal would move down without returning to column 0), and a terminal
//! sends CR for Enter where such a process reads lines ending in LF.

/// Output for a terminal: every LF not already after a CR becomes CR LF.
pub fn lf_to_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    let mut prev = 0u8;
    for &b in data {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// Input for a process without a tty: Enter (CR) ends a line with LF.
pub fn cr_to_lf(data: &[u8]) -> Vec<u8> {
    data.iter()
        .map(|&b| if b == b'\r' { b'\n' } else { b })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tui_term::vt100;

    #[test]
    fn bare_lf_lines_start_at_column_zero_on_the_terminal() {
        let out = lf_to_crlf(b"one\ntwo\r\nthree\n");
        assert_eq!(out, b"one\r\ntwo\r\nthree\r\n");
        let mut p = vt100::Parser::new(5, 20, 0);
        p.process(&lf_to_crlf(b"one\ntwo\nthree\n"));
        assert_eq!(p.screen().contents(), "one\ntwo\nthree");
        assert_eq!(cr_to_lf(b"ls\r"), b"ls\n");
    }
}
