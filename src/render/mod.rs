//! What the API and the command line print: GeoJSON (RFC 7946) and JSON
//! response bodies ([`body`]), readable tables ([`table`]) and referral
//! slips for callers, as SMS text or a printable page ([`slip`]).
//!
//! Rendering sits after `live` and before `api` in the data flow: it reads
//! a directory snapshot, a match answer or the store's key listing and
//! writes bytes; it never parses a request and never changes data. The HTTP
//! layer and the CLI write the same bodies through [`body::Renderer`], and
//! confidential fields are written only for staff views (see
//! [`body::shows_confidential`]).

pub mod body;
pub mod slip;
pub mod table;
