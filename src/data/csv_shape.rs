//! The shape of a CSV file, checked before polars reads it: polars fills a short row
//! with nulls, names a second `lead_id` column `lead_id_duplicated_0`, and reports a
//! long row or an unclosed quote without a row number. Each of those is a damaged or
//! misread export, so each is a problem located by row (the header is row 1, rows
//! counted as a spreadsheet shows them) and, where it has one, column.

use crate::data::source::problem;
use crate::error::Problem;

/// The first problem in the file's shape, its reason counting any further rows with
/// problems; `None` for a well-formed table.
pub(crate) fn shape_problem(file: &str, bytes: &[u8]) -> Option<Problem> {
    let problems = shape_problems(file, bytes);
    let more = problems.len().saturating_sub(1);
    problems.into_iter().next().map(|mut first| {
        if more > 0 {
            first.reason = format!("{} (and {more} more rows like it)", first.reason);
        }
        first
    })
}

/// Every shape problem, in file order.
fn shape_problems(file: &str, bytes: &[u8]) -> Vec<Problem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut scan = Scan {
        file,
        header: Vec::new(),
        field: Vec::new(),
        fields: 0,
        record: 0,
        empty: true,
        problems: Vec::new(),
    };
    let (mut in_quotes, mut quote_row) = (false, 0usize);
    for &byte in bytes {
        match byte {
            b'"' => {
                if !in_quotes {
                    quote_row = scan.record;
                }
                in_quotes = !in_quotes;
                scan.empty = false;
            }
            b',' if !in_quotes => scan.end_field(),
            b'\n' if !in_quotes => scan.end_record(),
            b'\r' if !in_quotes => {}
            _ => {
                if scan.record == 0 {
                    scan.field.push(byte);
                }
                scan.empty = false;
            }
        }
    }
    if in_quotes {
        scan.problems.push(problem(
            file,
            Some(quote_row + 1),
            None,
            "a quoted field opened in this row is never closed".into(),
        ));
    } else if !scan.empty || scan.record == 0 {
        scan.end_record();
    }
    scan.problems
}

/// Where the scan stands: the header's names (collected while in row 1), the fields
/// of the current record, and the problems found so far.
struct Scan<'a> {
    file: &'a str,
    header: Vec<String>,
    /// The bytes of the current header field.
    field: Vec<u8>,
    /// Field separators seen in the current record.
    fields: usize,
    /// 0-based record number (the header is 0).
    record: usize,
    /// Whether the current record has no content at all (a blank line).
    empty: bool,
    problems: Vec<Problem>,
}

impl Scan<'_> {
    fn end_field(&mut self) {
        if self.record == 0 {
            self.header
                .push(String::from_utf8_lossy(&self.field).to_string());
            self.field.clear();
        }
        self.fields += 1;
        self.empty = false;
    }

    fn end_record(&mut self) {
        if self.record == 0 {
            self.header
                .push(String::from_utf8_lossy(&self.field).to_string());
            self.field.clear();
            header_problems(self.file, &self.header, &mut self.problems);
        } else if !self.empty && self.fields + 1 != self.header.len() {
            self.problems.push(problem(
                self.file,
                Some(self.record + 1),
                None,
                format!(
                    "has {} fields where the header has {}",
                    self.fields + 1,
                    self.header.len()
                ),
            ));
        }
        self.record += 1;
        self.fields = 0;
        self.empty = true;
    }
}

/// Empty and repeated column names in the header.
fn header_problems(file: &str, header: &[String], problems: &mut Vec<Problem>) {
    for (index, name) in header.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() {
            problems.push(problem(
                file,
                Some(1),
                None,
                format!(
                    "header field {} has no name: every column needs one",
                    index + 1
                ),
            ));
        } else if let Some(first) = header[..index].iter().position(|n| n.trim() == name) {
            problems.push(problem(
                file,
                Some(1),
                Some(name.to_string()),
                format!(
                    "column `{name}` appears twice in the header (fields {} and {})",
                    first + 1,
                    index + 1
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(bytes: &[u8]) -> Option<(Option<usize>, String)> {
        shape_problem("t.csv", bytes).map(|p| (p.row, p.reason))
    }

    #[test]
    fn well_formed_tables_pass() {
        assert_eq!(reason(b"a,b\n1,2\n3,\"x,\ny\"\n"), None);
        assert_eq!(reason(b"\xEF\xBB\xBFa,b\r\n1,2\r\n\r\n"), None);
        assert_eq!(reason(b"a,b\n1,2"), None);
        assert_eq!(reason(b"a,b\n"), None);
    }

    #[test]
    fn short_and_long_rows_are_located() {
        let (row, text) = reason(b"a,b,c\n1,2,3\n1,2\n1,2,3,4\n").unwrap();
        assert_eq!(row, Some(3));
        assert!(
            text.contains("has 2 fields where the header has 3"),
            "{text}"
        );
        assert!(text.contains("1 more rows"), "{text}");
    }

    #[test]
    fn an_unclosed_quote_names_the_row_it_opened_in() {
        let (row, text) = reason(b"a,b\n1,2\n3,\"never closed\n4,5\n").unwrap();
        assert_eq!(row, Some(3));
        assert!(text.contains("never closed"), "{text}");
    }

    #[test]
    fn empty_and_repeated_header_names_are_refused() {
        let (row, text) = reason(b"lead_id,created_at,lead_id\nL1,2025-01-01,L2\n").unwrap();
        assert_eq!(row, Some(1));
        assert!(text.contains("`lead_id` appears twice"), "{text}");
        let (_, text) = reason(b"lead_id,,x\n1,2,3\n").unwrap();
        assert!(text.contains("header field 2 has no name"), "{text}");
    }
}
