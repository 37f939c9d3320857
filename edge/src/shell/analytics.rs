//! Writes the request's data point to the optional `ANALYTICS` binding
//! (Workers Analytics Engine). No binding, no write and no log: analytics are
//! opt-in and must never affect the request.

use worker::{AnalyticsEngineDataPointBuilder, Env};

use crate::analytics::DataPoint;

pub const BINDING: &str = "ANALYTICS";

pub fn write(env: &Env, point: &DataPoint) {
    let Ok(dataset) = env.analytics_engine(BINDING) else { return };
    let built = AnalyticsEngineDataPointBuilder::new()
        .indexes([point.index.as_str()])
        .blobs(point.blobs.iter().map(String::as_str))
        .doubles(point.doubles)
        .build();
    // writeDataPoint is fire-and-forget; a failure only loses this point.
    let _ = dataset.write_data_point(&built);
}
