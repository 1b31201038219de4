//! The blob writer: see docs/FORMAT.md.
