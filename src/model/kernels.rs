//! The two inner loops of the logistic fit, over f32 columns with f64 sums: adding
//! weighted columns into X·w, and the columns' dot products with the residuals for Xᵀr.
//! Several columns are taken per pass, so each element of the row block is loaded once
//! per group instead of once per column.
//!
//! Every result has the bits of the plain one-column-at-a-time loop, in a fixed order
//! that depends on nothing but the data: the AVX2 builds use the same operations in the
//! same order (separate multiplications and additions, no fused multiply-add), so a fit
//! gives the same coefficients on any x86-64 machine, with or without AVX2.

/// Lanes of a dot product: independent running sums (lane k sums elements k, k + 8, …;
/// the lanes are added last), so that the additions need not wait for one another and
/// fit in vector registers.
const LANES: usize = 8;

/// r[i] += Σₖ wₖ·columnₖ[i], the columns added in order for each element: the bits of
/// adding one column at a time. Every column is at least as long as `r`.
pub(crate) fn add_scaled(r: &mut [f64], columns: &[(f64, &[f32])]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just found to have AVX2, the function's only need.
        return unsafe { add_scaled_avx2(r, columns) };
    }
    add_scaled_portable(r, columns)
}

/// sums[k] += columnsₖ·r, each dot product in [`LANES`] fixed lanes. Every column is at
/// least as long as `r`; `sums` and `columns` have the same length.
pub(crate) fn add_dots(sums: &mut [f64], columns: &[&[f32]], r: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just found to have AVX2, the function's only need.
        return unsafe { add_dots_avx2(sums, columns, r) };
    }
    add_dots_portable(sums, columns, r)
}

/// [`add_scaled_portable`] compiled for AVX2 (four doubles per instruction, not two).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_scaled_avx2(r: &mut [f64], columns: &[(f64, &[f32])]) {
    add_scaled_portable(r, columns)
}

/// [`add_dots_portable`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_dots_avx2(sums: &mut [f64], columns: &[&[f32]], r: &[f64]) {
    add_dots_portable(sums, columns, r)
}

#[inline(always)]
fn add_scaled_portable(r: &mut [f64], columns: &[(f64, &[f32])]) {
    let n = r.len();
    let mut groups = columns.chunks_exact(4);
    for group in &mut groups {
        let [(w0, c0), (w1, c1), (w2, c2), (w3, c3)] = [group[0], group[1], group[2], group[3]];
        let (c0, c1, c2, c3) = (&c0[..n], &c1[..n], &c2[..n], &c3[..n]);
        for i in 0..n {
            let mut t = r[i];
            t += w0 * f64::from(c0[i]);
            t += w1 * f64::from(c1[i]);
            t += w2 * f64::from(c2[i]);
            t += w3 * f64::from(c3[i]);
            r[i] = t;
        }
    }
    for &(w, column) in groups.remainder() {
        for (t, &v) in r.iter_mut().zip(&column[..n]) {
            *t += w * f64::from(v);
        }
    }
}

#[inline(always)]
fn add_dots_portable(sums: &mut [f64], columns: &[&[f32]], r: &[f64]) {
    let n = r.len();
    let whole = n - n % LANES;
    let mut sum_groups = sums.chunks_exact_mut(4);
    let mut column_groups = columns.chunks_exact(4);
    for (out, group) in (&mut sum_groups).zip(&mut column_groups) {
        let group = [
            &group[0][..n],
            &group[1][..n],
            &group[2][..n],
            &group[3][..n],
        ];
        let mut lanes = [[0.0f64; LANES]; 4];
        for start in (0..whole).step_by(LANES) {
            let r = &r[start..start + LANES];
            for (lanes, column) in lanes.iter_mut().zip(&group) {
                let column = &column[start..start + LANES];
                for l in 0..LANES {
                    lanes[l] += f64::from(column[l]) * r[l];
                }
            }
        }
        for ((sum, lanes), column) in out.iter_mut().zip(&mut lanes).zip(&group) {
            *sum += finish_lanes(lanes, &column[whole..], &r[whole..]);
        }
    }
    for (sum, column) in sum_groups
        .into_remainder()
        .iter_mut()
        .zip(column_groups.remainder())
    {
        let mut lanes = [0.0f64; LANES];
        for start in (0..whole).step_by(LANES) {
            for l in 0..LANES {
                lanes[l] += f64::from(column[start + l]) * r[start + l];
            }
        }
        *sum += finish_lanes(&mut lanes, &column[whole..n], &r[whole..]);
    }
}

/// Adds the tail (fewer than [`LANES`] elements) into the first lanes, then the lanes
/// together, in order.
#[inline(always)]
fn finish_lanes(lanes: &mut [f64; LANES], column_tail: &[f32], r_tail: &[f64]) -> f64 {
    for (lane, (&v, &r)) in lanes.iter_mut().zip(column_tail.iter().zip(r_tail)) {
        *lane += f64::from(v) * r;
    }
    lanes.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(seed: usize, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i + seed) * 37 % 101) as f32 - 50.0) / 7.0)
            .collect()
    }

    #[test]
    fn grouped_columns_give_the_bits_of_one_column_at_a_time() {
        let n = 1_003;
        let r: Vec<f64> = (0..n)
            .map(|i| ((i * 53 % 97) as f64 - 48.0) / 3.1)
            .collect();
        let columns: Vec<Vec<f32>> = (0..7).map(|k| column(k * 13, n + 5)).collect();
        let weighted: Vec<(f64, &[f32])> = columns
            .iter()
            .enumerate()
            .map(|(k, c)| (0.37 - 0.11 * k as f64, c.as_slice()))
            .collect();

        let mut one_at_a_time = r.clone();
        for &(w, c) in &weighted {
            for (t, &v) in one_at_a_time.iter_mut().zip(c) {
                *t += w * f64::from(v);
            }
        }
        for (name, add) in [
            ("dispatched", add_scaled as fn(&mut [f64], &[(f64, &[f32])])),
            ("portable", |r: &mut [f64], c: &[(f64, &[f32])]| {
                add_scaled_portable(r, c)
            }),
        ] {
            let mut grouped = r.clone();
            add(&mut grouped, &weighted);
            assert!(
                grouped
                    .iter()
                    .zip(&one_at_a_time)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name}"
            );
        }

        let slices: Vec<&[f32]> = columns.iter().map(Vec::as_slice).collect();
        let expected: Vec<f64> = slices
            .iter()
            .map(|c| {
                let mut lanes = [0.0; LANES];
                for (i, (&v, &r)) in c.iter().zip(&r).enumerate() {
                    lanes[i % LANES] += f64::from(v) * r;
                }
                1.0 + lanes.iter().sum::<f64>()
            })
            .collect();
        let naive: Vec<f64> = slices
            .iter()
            .map(|c| {
                1.0 + c
                    .iter()
                    .zip(&r)
                    .map(|(&v, &r)| f64::from(v) * r)
                    .sum::<f64>()
            })
            .collect();
        let mut dispatched = vec![1.0; 7];
        add_dots(&mut dispatched, &slices, &r);
        let mut portable = vec![1.0; 7];
        add_dots_portable(&mut portable, &slices, &r);
        for k in 0..7 {
            assert_eq!(dispatched[k].to_bits(), expected[k].to_bits(), "column {k}");
            assert_eq!(portable[k].to_bits(), expected[k].to_bits(), "column {k}");
            assert!((dispatched[k] - naive[k]).abs() < 1e-9 * naive[k].abs().max(1.0));
        }
    }
}
