//! The statistics of measured times, in milliseconds.

use std::time::Duration;

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

pub fn sorted(values: &[f64]) -> Vec<f64> {
    let mut all = values.to_vec();
    all.sort_by(f64::total_cmp);
    all
}

/// The middle value, or the mean of the two middle ones; None without values.
pub fn median(values: &[f64]) -> Option<f64> {
    let all = sorted(values);
    match all.len() {
        0 => None,
        len if len % 2 == 1 => Some(all[len / 2]),
        len => Some((all[len / 2 - 1] + all[len / 2]) / 2.0),
    }
}

/// Nearest-rank percentile of sorted values; NaN without values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The finite ones of some values, sorted once for their percentiles.
pub struct Stats(Vec<f64>);

impl Stats {
    pub fn of(mut values: Vec<f64>) -> Stats {
        values.retain(|v| v.is_finite());
        values.sort_by(f64::total_cmp);
        Stats(values)
    }

    /// Nearest-rank percentile.
    pub fn p(&self, percent: f64) -> f64 {
        percentile(&self.0, percent)
    }

    pub fn max(&self) -> f64 {
        self.0.last().copied().unwrap_or(f64::NAN)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn percentiles_are_nearest_rank_and_ignore_what_is_not_finite() {
        let stats = Stats::of(vec![f64::NAN, 5.0, 1.0, 4.0, 2.0, 3.0]);
        assert_eq!(stats.len(), 5);
        assert_eq!((stats.p(0.0), stats.p(50.0), stats.p(90.0), stats.p(100.0)), (1.0, 3.0, 5.0, 5.0));
        assert_eq!(stats.max(), 5.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
