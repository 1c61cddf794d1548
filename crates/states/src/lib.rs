//! placeholder
pub mod choice;
pub use definition::StateMachine;
pub mod definition;
pub mod error;
pub mod exec;
pub mod intrinsic;
pub mod path;
pub mod payload;
pub mod timestamp;
