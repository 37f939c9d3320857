//! Writes the request's data point to the optional `ANALYTICS` binding
//! (Workers Analytics Engine). No binding, no write and no log: analytics are
//! opt-in and must never affect the request.

use std::cell::Cell;

use worker::{AnalyticsEngineDataPointBuilder, Env};

use crate::analytics::DataPoint;

pub const BINDING: &str = "ANALYTICS";

thread_local! {
    /// Whether the isolate has the binding: bindings are fixed for an
    /// isolate's life, so a worker without one looks once, not per request.
    static BOUND: Cell<Option<bool>> = const { Cell::new(None) };
}

/// `point` is only built when there is a dataset to write it to.
pub fn write(env: &Env, point: impl FnOnce() -> DataPoint) {
    if BOUND.get() == Some(false) {
        return;
    }
    let dataset = env.analytics_engine(BINDING);
    BOUND.set(Some(dataset.is_ok()));
    let Ok(dataset) = dataset else { return };
    let point = point();
    let built = AnalyticsEngineDataPointBuilder::new()
        .indexes([point.index.as_str()])
        .blobs(point.blobs.iter().map(String::as_str))
        .doubles(point.doubles)
        .build();
    // writeDataPoint is fire-and-forget; a failure only loses this point.
    let _ = dataset.write_data_point(&built);
}
