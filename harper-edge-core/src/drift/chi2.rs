//! See the module list in `drift`.
