//! The one hand-over point between polars (ndarray 0.17) and linfa (ndarray 0.16): a
//! feature frame becomes a column-major matrix, moved between the two ndarray versions
//! without copying. Column-major because linfa-logistic's solver runs about 2.5× faster
//! on it.

use ndarray::{Array2, ShapeBuilder};
use polars::prelude::*;

use crate::error::{Error, Result};

/// The frame's columns (all numeric, no nulls) as an n × p column-major matrix.
pub fn to_matrix(features: &DataFrame) -> Result<Array2<f64>> {
    let (rows, columns) = features.shape();
    if columns == 0 {
        return Ok(Array2::zeros((rows, 0).f()));
    }
    let polars_matrix = features.to_ndarray::<Float64Type>(IndexOrder::Fortran)?;
    let fortran = polars_matrix.t().is_standard_layout();
    let (values, offset) = polars_matrix.into_raw_vec_and_offset();
    if !fortran || offset.unwrap_or(0) != 0 || values.len() != rows * columns {
        // polars documents Fortran order for this call; anything else is a bug upstream.
        return Err(Error::Polars(PolarsError::ComputeError(
            "feature matrix is not in column-major order".into(),
        )));
    }
    Array2::from_shape_vec((rows, columns).f(), values)
        .map_err(|e| Error::Polars(PolarsError::ComputeError(e.to_string().into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_rows_and_columns_in_place() {
        let frame = df!("a" => [1.0, 2.0, 3.0], "b" => [10.0, 20.0, 30.0]).unwrap();
        let matrix = to_matrix(&frame).unwrap();
        assert_eq!(matrix.shape(), [3, 2]);
        assert_eq!(matrix[[0, 1]], 10.0);
        assert_eq!(matrix[[2, 0]], 3.0);
        assert!(matrix.t().is_standard_layout());
    }
}
