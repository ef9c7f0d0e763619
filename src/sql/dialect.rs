//! What differs between the SQL engines the exported queries run on: how names and
//! text are quoted, how a timestamp becomes microseconds, how a double is written,
//! what a finite number and a regular-expression match are. Everything else the queries
//! use (`ln`, `exp`, `floor`, `CASE`, `GREATEST`, `count(DISTINCT …)`, window functions) is
//! the same in all three.
//!
//! Every name and every value from the data or the artifact (a column called
//! `a"; DROP TABLE x; --`, a category `O'Brien`) reaches the query only through
//! [`Dialect::ident`] or [`Dialect::text`], so none can end a quote early.

use std::fmt::Write as _;

/// An engine the queries are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// DuckDB (1.0 and later).
    DuckDb,
    /// Apache Spark SQL (3.4 and later).
    Spark,
    /// PostgreSQL (14 and later).
    Postgres,
}

impl Dialect {
    /// A quoted identifier: the name exactly as written, whatever it holds.
    pub fn ident(self, name: &str) -> String {
        let quote = match self {
            Dialect::Spark => '`',
            Dialect::DuckDb | Dialect::Postgres => '"',
        };
        let mut quoted = String::with_capacity(name.len() + 2);
        quoted.push(quote);
        for c in name.chars() {
            if c == quote {
                quoted.push(quote);
            }
            quoted.push(c);
        }
        quoted.push(quote);
        quoted
    }

    /// A quoted text literal. Spark reads backslashes in literals as escapes, so they
    /// are doubled there; DuckDB and PostgreSQL (with standard strings) take them as
    /// written. A NUL cannot be part of a text value in any of them, so it is refused
    /// by the caller's data rather than smuggled in.
    pub fn text(self, value: &str) -> String {
        let mut quoted = String::with_capacity(value.len() + 2);
        quoted.push('\'');
        for c in value.chars() {
            match c {
                '\'' => quoted.push_str("''"),
                '\\' if self == Dialect::Spark => quoted.push_str("\\\\"),
                c => quoted.push(c),
            }
        }
        quoted.push('\'');
        quoted
    }

    /// A double literal that reads back as exactly `value` (finite values only; the
    /// artifact's check refuses others). Plain decimals are DECIMAL in DuckDB and Spark
    /// and NUMERIC in PostgreSQL, so the value is written in exponent form (a double in
    /// DuckDB and Spark) or cast (PostgreSQL).
    pub fn double(self, value: f64) -> String {
        let digits = format!("{value:e}");
        match self {
            Dialect::Postgres => format!("CAST('{digits}' AS DOUBLE PRECISION)"),
            Dialect::DuckDb | Dialect::Spark => format!("({digits})"),
        }
    }

    /// What the engine's session must be set to for the query to be right, as comment
    /// lines the query starts with.
    pub fn preamble(self) -> String {
        match self {
            Dialect::DuckDb => "-- Run with the session time zone UTC (SET TimeZone = 'UTC').\n",
            Dialect::Spark => {
                "-- Run with spark.sql.session.timeZone = UTC: timestamps without a zone are read\n\
                 -- in the session's zone, and leadscore reads them as UTC.\n"
            }
            Dialect::Postgres => {
                "-- Run with SET jit = off: compiling the feature expressions costs PostgreSQL's\n\
                 -- JIT about 50 s, far more than the query. Timestamps are `timestamp` (no zone).\n"
            }
        }
        .to_string()
    }

    /// The type name of a double.
    pub fn double_type(self) -> &'static str {
        match self {
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::DuckDb | Dialect::Spark => "DOUBLE",
        }
    }

    /// Microseconds since the epoch of a timestamp expression, as a BIGINT: exact, so
    /// that ages in days come out as the same doubles as leadscore's.
    pub fn micros(self, timestamp: &str) -> String {
        match self {
            Dialect::DuckDb => format!("epoch_us({timestamp})"),
            Dialect::Spark => format!("unix_micros({timestamp})"),
            Dialect::Postgres => {
                format!("CAST(extract(epoch FROM {timestamp}) * 1000000 AS BIGINT)")
            }
        }
    }

    /// The parameter placeholder for the as-of time, when the query takes it as one.
    pub fn as_of_parameter(self) -> &'static str {
        match self {
            Dialect::DuckDb => "$as_of",
            Dialect::Spark => ":as_of",
            Dialect::Postgres => "$1",
        }
    }

    /// `number` as a double when it is finite, else NULL (NaN and infinities count as
    /// missing, as leadscore reads them).
    pub fn finite_or_null(self, number: &str) -> String {
        // Spark 4 (ANSI) fails a whole query on a text that is no number; try_cast
        // makes it missing, as leadscore reads it.
        let double = match self {
            Dialect::Spark => format!("try_cast({number} AS DOUBLE)"),
            Dialect::DuckDb | Dialect::Postgres => {
                format!("CAST({number} AS {})", self.double_type())
            }
        };
        let finite = match self {
            Dialect::DuckDb => format!("isfinite({double})"),
            Dialect::Spark => format!("(NOT isnan({double}) AND abs({double}) < double('inf'))"),
            Dialect::Postgres => format!(
                "({double} NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8))"
            ),
        };
        format!("CASE WHEN {finite} THEN {double} END")
    }

    /// Whether `text` matches the regular expression `pattern` anywhere.
    pub fn regex_matches(self, text: &str, pattern: &str) -> String {
        let pattern = self.text(pattern);
        match self {
            Dialect::DuckDb => format!("regexp_matches({text}, {pattern})"),
            Dialect::Spark => format!("({text} RLIKE {pattern})"),
            Dialect::Postgres => format!("({text} ~ {pattern})"),
        }
    }

    /// Whether `text` contains `needle` (both already lower-cased by the caller).
    pub fn contains(self, text: &str, needle: &str) -> String {
        let needle = self.text(needle);
        match self {
            Dialect::Spark => format!("(instr({text}, {needle}) > 0)"),
            Dialect::DuckDb | Dialect::Postgres => format!("(strpos({text}, {needle}) > 0)"),
        }
    }

    /// Whether `text` starts with `prefix`.
    pub fn starts_with(self, text: &str, prefix: &str) -> String {
        let prefix = self.text(prefix);
        match self {
            Dialect::Spark => format!("startswith({text}, {prefix})"),
            Dialect::DuckDb | Dialect::Postgres => format!("starts_with({text}, {prefix})"),
        }
    }

    /// A table of the integers `0..n` in one BIGINT column `k` (for a `FROM`).
    pub fn counting(self, n: usize) -> String {
        match self {
            Dialect::DuckDb => format!("(SELECT range AS k FROM range({n})) AS g"),
            Dialect::Spark => format!("(SELECT id AS k FROM range({n})) AS g"),
            Dialect::Postgres => format!(
                "(SELECT CAST(k AS BIGINT) AS k FROM generate_series(0, {}) AS s(k)) AS g",
                n.saturating_sub(1)
            ),
        }
    }

    /// `value` cast to text (for tests on an attribute whatever its type).
    pub fn as_text(self, value: &str) -> String {
        match self {
            Dialect::Spark => format!("CAST({value} AS STRING)"),
            Dialect::DuckDb | Dialect::Postgres => format!("CAST({value} AS VARCHAR)"),
        }
    }
}

/// A `WITH` query assembled from named parts, each a `SELECT`, in order.
#[derive(Debug, Default)]
pub struct Query {
    parts: Vec<(String, String)>,
}

impl Query {
    /// Adds the part `name` (a plain lower-case name, never from the data).
    pub fn with(&mut self, name: &str, select: String) -> &mut Self {
        self.parts.push((name.to_string(), select));
        self
    }

    /// The whole query, ending in `final_select`.
    pub fn finish(&self, final_select: &str) -> String {
        let mut sql = String::new();
        for (i, (name, select)) in self.parts.iter().enumerate() {
            let _ = write!(
                sql,
                "{}{name} AS (\n{}\n)",
                if i == 0 { "WITH " } else { ",\n" },
                indent(select)
            );
        }
        if !self.parts.is_empty() {
            sql.push('\n');
        }
        sql.push_str(final_select);
        sql.push_str(";\n");
        sql
    }
}

/// Every line of `text` indented by two spaces.
fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_text_cannot_end_their_quotes() {
        let hostile = "a\"b`c'd\\e; DROP TABLE x; --é";
        assert_eq!(
            Dialect::DuckDb.ident(hostile),
            "\"a\"\"b`c'd\\e; DROP TABLE x; --é\""
        );
        assert_eq!(
            Dialect::Spark.ident(hostile),
            "`a\"b``c'd\\e; DROP TABLE x; --é`"
        );
        assert_eq!(
            Dialect::Postgres.text(hostile),
            "'a\"b`c''d\\e; DROP TABLE x; --é'"
        );
        assert_eq!(
            Dialect::Spark.text(hostile),
            "'a\"b`c''d\\\\e; DROP TABLE x; --é'"
        );
    }

    #[test]
    fn doubles_are_written_to_read_back_exactly() {
        for value in [
            0.1,
            -2.5e-300,
            1.0 / 3.0,
            123456789.125,
            0.0,
            f64::MIN_POSITIVE,
        ] {
            for d in [Dialect::DuckDb, Dialect::Spark, Dialect::Postgres] {
                let written = d.double(value);
                let digits = written
                    .trim_start_matches("CAST('")
                    .trim_end_matches("' AS DOUBLE PRECISION)")
                    .trim_start_matches('(')
                    .trim_end_matches(')');
                assert!(
                    digits.contains('e'),
                    "{written} is no double literal in {d:?}"
                );
                assert_eq!(digits.parse::<f64>().unwrap(), value, "{written}");
            }
        }
    }
}
