mod helpers;
mod ops;
mod traversal;
mod tree;
mod validation;

pub use ops::TreeNodeOps;
pub use traversal::Traversal;
pub use tree::Tree;
