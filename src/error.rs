//! The one error type of the core. Every variant names what was wrong and
//! what to do; the Python binding maps each kind to its own exception class.

use thiserror::Error;

/// Which input column a row-level problem was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Customer,
    Date,
    Amount,
    Order,
}

/// Everything that can go wrong in the core.
#[derive(Debug, Error, PartialEq)]
pub enum RfmError {
    /// A parameter is out of its domain (`window <= 0`, an unknown period, ...).
    #[error("invalid parameter `{name}`: {message}")]
    Parameter { name: &'static str, message: String },

    /// Input arrays of one table do not have the same length.
    #[error("input columns have different lengths: {what} has {got} rows, expected {expected}")]
    Length {
        what: &'static str,
        got: usize,
        expected: usize,
    },

    /// A customer or order code outside `-1..n_codes`: the encoding step is broken.
    #[error("{what} code {code} at row {row} is outside 0..{n_codes} (-1 marks a null)")]
    Code {
        what: &'static str,
        row: usize,
        code: i64,
        n_codes: usize,
    },

    /// A row that is invalid (null id, null date, non-finite amount) under `invalid="raise"`.
    #[error("row {row} (0-based position): {column} column '{name}' is {value}; drop or fill such rows, or pass invalid=\"drop\" to drop and count them")]
    InvalidRow {
        row: usize,
        field: Field,
        column: &'static str,
        name: String,
        value: String,
    },

    /// A value that scoring or segmenting cannot use (NaN, infinite, a score outside its range).
    #[error("{column} is {value} at row {row} (0-based position): {hint}")]
    BadValue {
        column: String,
        row: usize,
        value: String,
        hint: String,
    },

    /// A segment scheme that cannot be built or evaluated (a bad rule, a bad bound).
    #[error("segment scheme: {message}")]
    Scheme { message: String },

    /// A state the core's own checks should have made impossible (a bug).
    #[error("internal error: {0}")]
    Internal(String),
    /// A value of a model input (frequency, recency, T, spend, weights) that the model
    /// cannot use, found at a 0-based position.
    #[error("{argument}[{row}] is {value}: {message}")]
    InvalidValue {
        argument: &'static str,
        row: usize,
        value: f64,
        message: String,
    },

    /// A maximum-likelihood fit that gives no estimate: the optimiser stopped before an
    /// optimum, or what it found is a limit (a parameter ran off towards 0 or infinity, or
    /// the likelihood is flat there), which the data cannot tell from other values.
    #[error("the {model} fit {outcome}. {reason} {advice}")]
    Convergence {
        model: &'static str,
        /// Where the optimiser stopped and what is wrong with it: "is a limit, not an
        /// estimate: a ran off towards 0, to 5.13e-8", or "did not converge after 50
        /// iterations (...); last parameters ..., gradient norm ...".
        outcome: String,
        /// Why, in the data's terms, and the data's counts (customers, repeat customers, ...).
        reason: String,
        /// What to do (more customers, a penalty that was tried on the same data, ...).
        advice: String,
    },

    /// A negative amount under `returns="raise"`.
    #[error("row {row} (0-based position): amount column '{name}' is {value} (a return); pass returns=\"net\" to net returns into monetary or returns=\"drop\" to drop and count them")]
    ReturnRow { row: usize, name: String, value: f64 },

    /// Data that cannot be clustered or compared as it is: no rows, a non-finite
    /// feature, fewer distinct points than clusters, label arrays of different lengths.
    #[error("{message}")]
    Data { message: String },

    /// An error reported by a backend library (linfa); a bug in rfmkit's checks.
    #[error("the {backend} backend failed: {message}")]
    Backend { backend: &'static str, message: String },
}

impl RfmError {
    pub(crate) fn parameter(name: &'static str, message: impl Into<String>) -> Self {
        RfmError::Parameter {
            name,
            message: message.into(),
        }
    }

    pub(crate) fn data(message: impl Into<String>) -> Self {
        RfmError::Data {
            message: message.into(),
        }
    }
}

#[cfg(feature = "linfa")]
impl From<linfa::error::Error> for RfmError {
    fn from(error: linfa::error::Error) -> Self {
        RfmError::Backend {
            backend: "linfa",
            message: error.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, RfmError>;
