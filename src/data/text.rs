//! Passes over text columns that look at each row's 16-byte view rather than its
//! string: tables come grouped by lead and their text columns decoded from Parquet
//! dictionaries, so equal neighbours usually have equal views, and a check or a
//! look-up can be done once per run of them instead of once per row.

use polars::prelude::*;

/// Calls `each(start, len, value)` for every run of equal consecutive values of
/// `values`, in order, covering every row once. Two rows are put in one run only when
/// their views are equal (which makes their strings equal); a run never spans two
/// chunks, so neighbouring runs may hold the same value.
pub fn each_run<'a>(
    values: &'a StringChunked,
    mut each: impl FnMut(usize, usize, Option<&'a str>),
) {
    let mut offset = 0;
    for (array, chunk) in values.downcast_iter().zip(values.chunks()) {
        let views: &[_] = array.views();
        let n = views.len();
        let validity = chunk.validity().filter(|v| v.unset_bits() > 0);
        let mut start = 0;
        while start < n {
            let mut end = start + 1;
            match validity {
                None => {
                    let first = views[start].as_u128();
                    while end < n && views[end].as_u128() == first {
                        end += 1;
                    }
                    each(offset + start, end - start, Some(array.value(start)));
                }
                Some(validity) => {
                    let key = |i: usize| validity.get_bit(i).then(|| views[i].as_u128());
                    let first = key(start);
                    while end < n && key(end) == first {
                        end += 1;
                    }
                    let value = first.map(|_| array.value(start));
                    each(offset + start, end - start, value);
                }
            }
            start = end;
        }
        offset += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_every_row_with_its_value() {
        let long = "a value longer than twelve bytes";
        let first = StringChunked::from_slice_options(
            "x".into(),
            &[
                Some("a"),
                Some("a"),
                None,
                None,
                Some(long),
                Some(long),
                Some("b"),
            ],
        );
        let second = StringChunked::from_slice_options("x".into(), &[Some("b"), None, Some("a")]);
        let mut values = first.clone();
        values.append(&second).unwrap();
        let mut runs = Vec::new();
        each_run(&values, |start, len, value| {
            runs.push((start, len, value.map(str::to_string)))
        });
        let mut rows = Vec::new();
        for (start, len, value) in &runs {
            assert_eq!(*start, rows.len());
            rows.extend(std::iter::repeat_n(value.clone(), *len));
        }
        let expected: Vec<Option<String>> = values.iter().map(|v| v.map(str::to_string)).collect();
        assert_eq!(rows, expected);
        assert!(runs.len() <= 8, "{runs:?}");
        assert_eq!(runs[0], (0, 2, Some("a".to_string())));
        assert_eq!(runs[1], (2, 2, None));
    }
}
