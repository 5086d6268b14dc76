//! # refmatch
//!
//! A geospatial referral matching engine for anti-trafficking hotlines.
//!
//! Data flows one way through the modules; each uses only those before it:
//!
//! ```text
//! cancel     cooperative cancellation of long work (Cancel, Cancelled)
//! model      plain validated types: LatLng, Precision, Provider, Availability
//! gazetteer  offline places, ZIPs, boundaries; geocode and reverse geocode
//! synthetic  deterministic synthetic directories (sample data, benchmarks)
//! ingest     readers (CSV, Parquet, JSON, GeoJSON, HSDS) → validated providers + rejections
//! index      directory snapshot: R-tree, H3 coverage, attribute bitsets
//! matching   query → candidates → score → ranked results with reasons
//! coverage   regions × need → gap figures, 2SFCA, suggested sites (polars)
//! store      store of record (SQLite): records, history, audit, submissions, keys
//! live       store + index kept in step: validated edits, atomic snapshot swaps
//! render     GeoJSON/JSON bodies and text tables, shared by the API and the CLI
//! api        axum router, problem+json errors, serve wiring
//! ```
//!
//! The binary (`main.rs`, `cli/`) is a thin CLI over this library. Coordinates are WGS84 degrees;
//! distances are kilometres; GeoJSON output uses `[lon, lat]` order.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod cancel;
pub mod coverage;
pub mod gazetteer;
pub mod index;
pub mod ingest;
pub mod live;
pub mod matching;
pub mod model;
pub mod render;
pub mod store;
pub mod synthetic;
