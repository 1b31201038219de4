//! The blob reader: see docs/FORMAT.md.
