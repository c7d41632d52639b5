//! Columns aligned as docker's `text/tabwriter` aligns them: each column as wide as its widest
//! cell plus the padding, never narrower than the minimum width; the last cell of a row is not
//! padded.

/// Docker's list tables (`ps`, `images`): `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.
pub const LIST_MIN_WIDTH: usize = 10;
/// Docker's `top`: `tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)`.
pub const TOP_MIN_WIDTH: usize = 20;
const PADDING: usize = 3;

/// Renders `rows` (the header first) as aligned lines, each ending in a newline.
pub fn render(rows: &[Vec<String>], min_width: usize) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            let widest = rows
                .iter()
                // A row's last cell is not a column cell: it does not widen the column.
                .filter(|r| c + 1 < r.len())
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0);
            (widest + PADDING).max(min_width)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}", w = widths[c]));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::render;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn columns_fit_the_widest_cell_plus_padding_or_the_minimum() {
        let rows = [
            row(&["A", "TAG", "LAST"]),
            row(&["a-long-name-here", "1", "x"]),
        ];
        // 16 + 3 padding; "TAG" and "1" get the minimum width 10; the last cell is not padded.
        let want = format!(
            "{:<19}{:<10}LAST\n{:<19}{:<10}x\n",
            "A", "TAG", "a-long-name-here", "1"
        );
        assert_eq!(render(&rows, 10), want);
    }
}
