//! Whole leads, stratified by outcome: the one way leadscore takes fewer training rows
//! than it has (the L2 search on a large history, `--max-training-rows`). A lead's
//! snapshots go in or out together, so no lead is half in a fold; each outcome keeps its
//! share of the rows, so the won rate of the sample is the won rate of the data; and
//! the choice depends only on the lead ids, so the same data gives the same sample on
//! every run and machine.

/// Row indices (ascending) of whole leads holding at most `max_rows` rows, each
/// outcome's rows in proportion to its share of all rows; every row when there are no
/// more than `max_rows`. `lead_of_row` names each row's lead; `won` is per row (a
/// lead's rows share their outcome).
pub(crate) fn whole_leads(lead_of_row: &[&str], won: &[bool], max_rows: usize) -> Vec<usize> {
    let rows = lead_of_row.len();
    if rows <= max_rows {
        return (0..rows).collect();
    }
    // Leads in a stable pseudo-random order: by a hash of the id (ties by the id).
    let mut leads: Vec<(u32, &str, bool, usize)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (&lead, &w) in lead_of_row.iter().zip(won) {
        let slot = *index.entry(lead).or_insert_with(|| {
            leads.push((crc32fast::hash(lead.as_bytes()), lead, w, 0));
            leads.len() - 1
        });
        leads[slot].3 += 1;
    }
    leads.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
    let won_rows = won.iter().filter(|&&w| w).count();
    let share = max_rows as f64 / rows as f64;
    let budget = |outcome: bool| {
        let of_outcome = if outcome { won_rows } else { rows - won_rows };
        (of_outcome as f64 * share).floor() as usize
    };
    let (mut won_budget, mut lost_budget) = (budget(true), budget(false));
    let mut chosen = std::collections::HashSet::new();
    for (_, lead, outcome, count) in leads {
        let left = if outcome {
            &mut won_budget
        } else {
            &mut lost_budget
        };
        if count <= *left {
            *left -= count;
            chosen.insert(lead);
        }
    }
    (0..rows)
        .filter(|&i| chosen.contains(lead_of_row[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(leads: usize) -> (Vec<String>, Vec<bool>) {
        let (mut ids, mut won) = (Vec::new(), Vec::new());
        for lead in 0..leads {
            // 1 to 4 snapshots; every third lead won.
            for _ in 0..1 + lead % 4 {
                ids.push(format!("L{lead:05}"));
                won.push(lead % 3 == 0);
            }
        }
        (ids, won)
    }

    #[test]
    fn keeps_whole_leads_the_won_rate_and_the_budget() {
        let (ids, won) = history(5_000);
        let names: Vec<&str> = ids.iter().map(String::as_str).collect();
        let kept = whole_leads(&names, &won, 3_000);
        assert!(kept.len() <= 3_000 && kept.len() > 2_900, "{}", kept.len());
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
        let kept_leads: std::collections::HashSet<&str> = kept.iter().map(|&i| names[i]).collect();
        let rows_of_kept = names.iter().filter(|n| kept_leads.contains(*n)).count();
        assert_eq!(rows_of_kept, kept.len(), "a lead was split");
        let rate =
            |rows: &[usize]| rows.iter().filter(|&&i| won[i]).count() as f64 / rows.len() as f64;
        let all: Vec<usize> = (0..won.len()).collect();
        assert!((rate(&kept) - rate(&all)).abs() < 0.01);
    }

    #[test]
    fn is_the_same_sample_whatever_the_row_order() {
        let (ids, won) = history(2_000);
        let names: Vec<&str> = ids.iter().map(String::as_str).collect();
        let kept: Vec<&str> = whole_leads(&names, &won, 1_000)
            .iter()
            .map(|&i| names[i])
            .collect();
        let reversed_names: Vec<&str> = names.iter().rev().copied().collect();
        let reversed_won: Vec<bool> = won.iter().rev().copied().collect();
        let mut again: Vec<&str> = whole_leads(&reversed_names, &reversed_won, 1_000)
            .iter()
            .map(|&i| reversed_names[i])
            .collect();
        again.reverse();
        assert_eq!(kept, again);
    }

    #[test]
    fn small_data_is_kept_whole() {
        let (ids, won) = history(100);
        let names: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(whole_leads(&names, &won, 10_000).len(), names.len());
    }
}
