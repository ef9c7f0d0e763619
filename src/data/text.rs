//! Passes over text columns that look at each row's 16-byte view rather than its
//! string: tables come grouped by lead and their text columns decoded from Parquet
//! dictionaries, so equal neighbours usually have equal views, and a check or a
//! look-up can be done once per run of them instead of once per row.

use polars::prelude::*;

/// Calls `each(start, len, value)` for every run of equal consecutive values of
/// `values`, in order, covering every row once. Two rows are put in one run only when
/// their views are equal (which makes their strings equal); a run never spans two
/// chunks, so neighbouring runs may hold the same value.
pub(crate) fn each_run<'a>(
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

/// Ids and their places, found fastest when asked for in the order they were given
/// (tables come by lead, in the leads table's order): each look-up first tries the
/// place after the last one found. Sorted ids are then searched onwards from there
/// and need no hashing at all; others are hashed once.
pub(crate) struct IdIndex<'a> {
    ids: Vec<&'a str>,
    /// For ids that are not strictly increasing: each id's place (the last, if twice).
    places: Option<PlHashMap<&'a str, usize>>,
}

impl<'a> IdIndex<'a> {
    /// Indexes `ids`; an id given twice keeps its last place (as a map collected from
    /// them would).
    pub(crate) fn new(ids: Vec<&'a str>) -> Self {
        let sorted = ids.windows(2).all(|pair| pair[0] < pair[1]);
        let places = (!sorted).then(|| {
            let mut places = PlHashMap::with_capacity(ids.len());
            for (place, &id) in ids.iter().enumerate() {
                places.insert(id, place);
            }
            places
        });
        IdIndex { ids, places }
    }

    /// Whether some id is given twice.
    pub(crate) fn has_repeats(&self) -> bool {
        self.places
            .as_ref()
            .is_some_and(|places| places.len() < self.ids.len())
    }

    /// The place of `id`; `cursor` is the caller's last place found (start at `None`).
    #[inline]
    pub(crate) fn find(&self, id: &str, cursor: &mut Option<usize>) -> Option<usize> {
        let next = cursor.map_or(0, |c| c + 1);
        if self.ids.get(next) == Some(&id) {
            *cursor = Some(next);
            return Some(next);
        }
        let found = match &self.places {
            Some(places) => places.get(id).copied(),
            None => {
                let from = if cursor.is_some_and(|c| self.ids[c] < id) {
                    next
                } else {
                    0
                };
                self.search_sorted(id, from)
            }
        };
        if found.is_some() {
            *cursor = found;
        }
        found
    }

    /// Galloping search of the sorted ids from place `from` on.
    fn search_sorted(&self, id: &str, from: usize) -> Option<usize> {
        let n = self.ids.len();
        if from >= n {
            return None;
        }
        let (mut low, mut step) = (from, 1);
        let mut high = from;
        while high < n && self.ids[high] < id {
            low = high + 1;
            high = from + step;
            step *= 2;
        }
        let high = high.min(n - 1) + 1;
        let low = low.min(high);
        self.ids[low..high]
            .binary_search(&id)
            .ok()
            .map(|place| low + place)
    }
}

/// A small direct-mapped cache from a value's view to what it stands for, to resolve a
/// Parquet dictionary column's rows (whose views repeat) without hashing their text.
/// Views are only comparable within one array: clear it between chunks.
pub(crate) struct ViewCache<V> {
    slots: Vec<Option<(u128, V)>>,
}

impl<V: Copy> ViewCache<V> {
    const SLOTS: usize = 256;

    /// An empty cache.
    pub(crate) fn new() -> Self {
        ViewCache {
            slots: vec![None; Self::SLOTS],
        }
    }

    /// Forgets every view.
    pub(crate) fn clear(&mut self) {
        self.slots.iter_mut().for_each(|slot| *slot = None);
    }

    fn slot(view: u128) -> usize {
        let mixed = (view as u64) ^ ((view >> 64) as u64);
        (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize
    }

    /// What `view` was last put with, if it is still cached.
    #[inline]
    pub(crate) fn get(&self, view: u128) -> Option<V> {
        match self.slots[Self::slot(view)] {
            Some((cached, value)) if cached == view => Some(value),
            _ => None,
        }
    }

    /// Caches `value` for `view`.
    #[inline]
    pub(crate) fn put(&mut self, view: u128, value: V) {
        self.slots[Self::slot(view)] = Some((view, value));
    }
}

impl<V: Copy> Default for ViewCache<V> {
    fn default() -> Self {
        Self::new()
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

    #[test]
    fn ids_are_found_in_any_order_sorted_or_not() {
        let many: Vec<String> = (0..300).map(|i| format!("{:04}", i * 3)).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let asked_many: Vec<String> = (0..920)
            .rev()
            .chain(0..920)
            .map(|i| format!("{i:04}"))
            .collect();
        for id in asked_many.iter().step_by(7) {
            let index = IdIndex::new(many.clone());
            let mut cursor = None;
            for asked in asked_many.iter().skip_while(|a| *a != id) {
                let expected = many.iter().position(|i| i == asked);
                assert_eq!(index.find(asked, &mut cursor), expected, "{asked}");
            }
        }
        for ids in [vec!["a", "c", "d", "f"], vec!["d", "a", "f", "c"], vec![]] {
            let index = IdIndex::new(ids.clone());
            for asked in [
                vec!["a", "b", "c", "d", "e", "f", "g"],
                vec!["g", "f", "0", "c", "c", "a", "e", "d", "b"],
            ] {
                let mut cursor = None;
                for id in asked {
                    let expected = ids.iter().position(|&i| i == id);
                    assert_eq!(index.find(id, &mut cursor), expected, "{ids:?} {id}");
                }
            }
        }
    }
}
