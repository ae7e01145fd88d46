//! The ONNX-ML operators scikit-learn exports that tract 0.23 does not translate, and the
//! load-time check that every operator of a graph has a translation.
//!
//! tract-onnx looks operators up by `op_type` in a public register
//! ([`tract_onnx::model::OnnxOpRegister`]); [`onnx`] returns tract's ONNX front end with three
//! more entries:
//!
//! * `Scaler` (ai.onnx.ml): `y = (x - offset) * scale` per feature, float output, expanded into
//!   tract's own cast, sub and mul.
//! * `TreeEnsembleRegressor` (ai.onnx.ml): parsed like tract's `TreeEnsembleClassifier` and run
//!   by the same tree evaluator of tract-onnx-opl, then `AVERAGE` (divide by the number of
//!   trees, as ONNX Runtime does), `base_values` and `post_transform` (`NONE`, `LOGISTIC`,
//!   `SOFTMAX`). `MIN`/`MAX` aggregates are refused at load: tract's evaluator starts them from
//!   zero where ONNX Runtime starts from the first vote.
//! * `ZipMap` (ai.onnx.ml): turns a `[N, C]` probability tensor into one `{label: probability}`
//!   map per row. tract has no map values, so ZipMap passes the `[N, C]` tensor through (columns
//!   in class order, the order of its `classlabels_*`); the labels themselves are the
//!   classifier's `output_label`.
//!
//! [`string_labels_as_indices`] rewrites classifiers with string labels, which tract cannot
//! type, before parsing. Any other operator tract does not know is reported by
//! [`unsupported_operators`] before the graph is built, naming each operator and its domain.

use std::collections::BTreeSet;

use tract_onnx::model::{Onnx, OnnxOpRegister, ParsingContext};
use tract_onnx::pb::{GraphProto, ModelProto, NodeProto};
use tract_onnx::pb_helpers::AttrTVecType;
use tract_onnx::tract_core;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::logic::wire_with_rank_broadcast;
use tract_onnx_opl::ml::tree::{Aggregate, Cmp, TreeEnsemble, TreeEnsembleData};
use tract_onnx_opl::ml::tree_ensemble_classifier::{
    TreeEnsembleClassifier as TreeScores, parse_aggregate,
};

/// tract's ONNX front end with the ONNX-ML operators of this module registered.
pub(crate) fn onnx() -> Onnx {
    let mut onnx = tract_onnx::onnx();
    register(&mut onnx.op_register);
    onnx
}

fn register(reg: &mut OnnxOpRegister) {
    reg.insert("Scaler", scaler);
    reg.insert("TreeEnsembleRegressor", tree_ensemble_regressor);
    reg.insert("ZipMap", zipmap);
    reg.insert(LABEL_LOOKUP, label_lookup);
}

/// The operator [`string_labels_as_indices`] inserts (domain `harper-edge`).
const LABEL_LOOKUP: &str = "HarperEdgeLabelLookup";

/// Works around tract 0.23 failing to type `LinearClassifier` and `TreeEnsembleClassifier`
/// nodes with `classlabels_strings` ("String doesn't implement num_traits::Zero": their label
/// lookup wants a zero string as fallback). Each such classifier gets the labels `0..n`
/// instead, and its label output goes through a [`LABEL_LOOKUP`] node that maps index `i` to
/// the `i`-th string label, under the original output name.
pub(crate) fn string_labels_as_indices(model: &mut ModelProto) {
    let Some(graph) = model.graph.as_mut() else { return };
    let mut lookups = vec![];
    for node in &mut graph.node {
        let int_attr = match node.op_type.as_str() {
            "LinearClassifier" => "classlabels_ints",
            "TreeEnsembleClassifier" => "classlabels_int64s",
            _ => continue,
        };
        let Some(attr) = node.attribute.iter_mut().find(|a| a.name == "classlabels_strings") else {
            continue;
        };
        let Some(label) = node.output.first().filter(|l| !l.is_empty()).cloned() else {
            continue;
        };
        let strings = std::mem::take(&mut attr.strings);
        #[allow(clippy::cast_possible_wrap)]
        let indices = (0..strings.len() as i64).collect();
        *attr = tract_onnx::pb::AttributeProto {
            name: int_attr.into(),
            r#type: tract_onnx::pb::attribute_proto::AttributeType::Ints as i32,
            ints: indices,
            ..Default::default()
        };
        let index = format!("{label}.harper_edge_label_index");
        node.output[0].clone_from(&index);
        lookups.push(NodeProto {
            name: format!("{label}.harper_edge_label_lookup"),
            op_type: LABEL_LOOKUP.into(),
            domain: "harper-edge".into(),
            input: vec![index],
            output: vec![label],
            attribute: vec![tract_onnx::pb::AttributeProto {
                name: "classlabels_strings".into(),
                r#type: tract_onnx::pb::attribute_proto::AttributeType::Strings as i32,
                strings,
                ..Default::default()
            }],
            ..Default::default()
        });
    }
    graph.node.extend(lookups);
}

/// Every `(op_type, domain)` of `model` (sub-graphs included) that `onnx` has no translation
/// for, sorted; the domain of the default operator set is written `ai.onnx`.
pub(crate) fn unsupported_operators(onnx: &Onnx, model: &ModelProto) -> Vec<(String, String)> {
    fn walk(onnx: &Onnx, graph: &GraphProto, found: &mut BTreeSet<(String, String)>) {
        for node in &graph.node {
            if !onnx.op_register.0.contains_key(&node.op_type) {
                let domain = if node.domain.is_empty() { "ai.onnx" } else { &node.domain };
                found.insert((node.op_type.clone(), domain.to_string()));
            }
            for attr in &node.attribute {
                for g in attr.g.iter().chain(&attr.graphs) {
                    walk(onnx, g, found);
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    if let Some(graph) = &model.graph {
        walk(onnx, graph, &mut found);
    }
    found.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// Scaler

#[derive(Debug, Clone, Hash)]
struct Scaler {
    /// f32, rank 1, one value per feature or one for all.
    offset: Arc<Tensor>,
    /// f32, same length as `offset`.
    scale: Arc<Tensor>,
}

fn scaler(
    _ctx: &ParsingContext<'_>,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let scale: Vec<f32> = node.get_attr_opt_vec("scale")?.unwrap_or_default();
    let offset: Vec<f32> = node.get_attr_opt_vec("offset")?.unwrap_or_default();
    node.expect_attr("scale", !scale.is_empty(), "at least one value")?;
    node.expect_attr("offset", offset.len() == scale.len(), "as many values as scale")?;
    Ok((expand(Scaler { offset: rctensor1(&offset), scale: rctensor1(&scale) }), vec![]))
}

impl Expansion for Scaler {
    fn name(&self) -> StaticName {
        "Scaler".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].datum_type, DatumType::F32)?;
        s.equals(&inputs[0].shape, &outputs[0].shape)?;
        Ok(())
    }

    fn wire(
        &self,
        prefix: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let mut x = inputs[0];
        let fact = model.outlet_fact(x)?.clone();
        ensure!(fact.rank() >= 1, "Scaler needs an input of rank 1 or more");
        let n = self.scale.len();
        if let Some(features) = fact.shape.last().and_then(|d| d.to_usize().ok()) {
            ensure!(
                n == 1 || n == features,
                "Scaler has {n} scale/offset values for {features} features"
            );
        }
        if fact.datum_type != f32::datum_type() {
            x = model.wire_node(
                format!("{prefix}.to_f32"),
                tract_core::ops::cast::cast(f32::datum_type()),
                &[x],
            )?[0];
        }
        let offset = model.add_const(format!("{prefix}.offset"), self.offset.clone())?;
        let scale = model.add_const(format!("{prefix}.scale"), self.scale.clone())?;
        // The rank-1 constants are left-padded to the input's rank, so they broadcast over rows.
        let centred = wire_with_rank_broadcast(
            format!("{prefix}.sub"),
            model,
            tract_core::ops::math::sub(),
            &[x, offset],
        )?[0];
        wire_with_rank_broadcast(
            format!("{prefix}.mul"),
            model,
            tract_core::ops::math::mul(),
            &[centred, scale],
        )
    }
}

// ---------------------------------------------------------------------------------------------
// TreeEnsembleRegressor

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PostTransform {
    None,
    Logistic,
    Softmax,
}

#[derive(Debug, Clone, Hash)]
struct TreeEnsembleRegressor {
    /// Leaf votes summed per target.
    ensemble: TreeEnsemble,
    /// `Some(number of trees)` for `aggregate_function = AVERAGE`.
    average_over: Option<usize>,
    /// f32 `[n_targets]` or `[1]`, added after aggregation.
    base_values: Option<Arc<Tensor>>,
    post_transform: PostTransform,
}

fn tree_ensemble_regressor(
    _ctx: &ParsingContext<'_>,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    for attr in ["nodes_values_as_tensor", "target_weights_as_tensor", "base_values_as_tensor"] {
        node.expect_attr(
            attr,
            node.attribute.iter().all(|a| a.name != attr),
            "to be absent (double-precision trees are not supported; export float32 trees)",
        )?;
    }
    let aggregate = parse_aggregate(node.get_attr_opt("aggregate_function")?.unwrap_or("SUM"))?;
    node.expect_attr(
        "aggregate_function",
        matches!(aggregate, Aggregate::Sum | Aggregate::Avg),
        "SUM or AVERAGE (MIN and MAX are not supported)",
    )?;
    let post_transform = match node.get_attr_opt("post_transform")?.unwrap_or("NONE") {
        "NONE" => PostTransform::None,
        "LOGISTIC" => PostTransform::Logistic,
        "SOFTMAX" => PostTransform::Softmax,
        other => bail!("TreeEnsembleRegressor post_transform {other} is not supported"),
    };
    let (ensemble, n_trees) = parse_regression_trees(node)?;
    let n_targets = ensemble.n_classes();
    let base_values = match node.get_attr_opt_vec::<f32>("base_values")? {
        Some(v) => {
            node.expect_attr("base_values", v.len() == n_targets || v.len() == 1, || {
                format!("{n_targets} values (n_targets) or 1, got {}", v.len())
            })?;
            Some(rctensor1(&v))
        }
        None => None,
    };
    let average_over = (aggregate == Aggregate::Avg).then_some(n_trees);
    Ok((
        expand(TreeEnsembleRegressor { ensemble, average_over, base_values, post_transform }),
        vec![],
    ))
}

impl Expansion for TreeEnsembleRegressor {
    fn name(&self) -> StaticName {
        "TreeEnsembleRegressor".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].rank, 2)?;
        s.equals(&outputs[0].datum_type, DatumType::F32)?;
        s.equals(&outputs[0].rank, 2)?;
        s.equals(&outputs[0].shape[0], &inputs[0].shape[0])?;
        s.equals(&outputs[0].shape[1], self.ensemble.n_classes().to_dim())?;
        Ok(())
    }

    fn wire(
        &self,
        prefix: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let mut y = model.wire_node(
            format!("{prefix}.trees"),
            TreeScores { ensemble: self.ensemble.clone() },
            inputs,
        )?;
        if let Some(n) = self.average_over {
            #[allow(clippy::cast_precision_loss)]
            let inv = rctensor2(&[[1f32 / n as f32]]);
            let inv = model.add_const(format!("{prefix}.inv_n_trees"), inv)?;
            y = model.wire_node(
                format!("{prefix}.average"),
                tract_core::ops::math::mul(),
                &[y[0], inv],
            )?;
        }
        if let Some(base) = self.base_values.as_deref() {
            let base = base.clone().broadcast_into_rank(2)?.into_arc_tensor();
            let base = model.add_const(format!("{prefix}.base"), base)?;
            y = model.wire_node(
                format!("{prefix}.base_values"),
                tract_core::ops::math::add(),
                &[y[0], base],
            )?;
        }
        match self.post_transform {
            PostTransform::None => {}
            PostTransform::Logistic => {
                y = model.wire_node(
                    format!("{prefix}.logistic"),
                    tract_core::ops::nn::sigmoid(),
                    &y,
                )?;
            }
            PostTransform::Softmax => {
                y = model.wire_node(
                    format!("{prefix}.softmax"),
                    tract_core::ops::nn::Softmax {
                        axes: tvec!(1),
                        ..tract_core::ops::nn::Softmax::default()
                    },
                    &y,
                )?;
            }
        }
        Ok(y)
    }
}

fn parse_node_mode(s: &str) -> TractResult<Option<Cmp>> {
    match s {
        "BRANCH_LEQ" => Ok(Some(Cmp::LessEqual)),
        "BRANCH_LT" => Ok(Some(Cmp::Less)),
        "BRANCH_GTE" => Ok(Some(Cmp::GreaterEqual)),
        "BRANCH_GT" => Ok(Some(Cmp::Greater)),
        "BRANCH_EQ" => Ok(Some(Cmp::Equal)),
        "BRANCH_NEQ" => Ok(Some(Cmp::NotEqual)),
        "LEAF" => Ok(None),
        _ => bail!("unsupported node mode {s}"),
    }
}

fn vec_attr<'a, T: AttrTVecType<'a>>(
    node: &'a NodeProto,
    attr: &str,
    n: usize,
) -> TractResult<Vec<T>> {
    let vec = node.get_attr_vec(attr)?;
    node.expect_attr(attr, vec.len() == n, || format!("length {n}, got {}", vec.len()))?;
    Ok(vec)
}

/// The trees of a `TreeEnsembleRegressor`, in the layout of tract-onnx-opl's evaluator, with
/// votes summed, and the number of trees.
///
/// Adapted from tract-onnx 0.23.9 `ops/ml/tree_ensemble_classifier.rs` `parse_nodes_data`
/// (MIT/Apache-2.0), whose regressor branch is unused by tract (and reads the aggregate from an
/// `aggregate` attribute instead of ONNX's `aggregate_function`).
#[allow(clippy::cast_possible_truncation)] // ids and counts of a model < 4G nodes
fn parse_regression_trees(node: &NodeProto) -> TractResult<(TreeEnsemble, usize)> {
    let n_targets: usize = node.get_attr_opt("n_targets")?.unwrap_or(1);
    node.expect_attr("n_targets", n_targets > 0, "at least one target")?;
    let n_nodes = node.get_attr_slice::<i64>("nodes_featureids")?.len();
    node.expect_attr("nodes_featureids", n_nodes != 0, "at least one node")?;

    let node_ids = vec_attr::<usize>(node, "nodes_nodeids", n_nodes)?;
    let tree_ids = vec_attr::<usize>(node, "nodes_treeids", n_nodes)?;
    let feature_ids = vec_attr::<usize>(node, "nodes_featureids", n_nodes)?;
    let true_ids = vec_attr::<usize>(node, "nodes_truenodeids", n_nodes)?;
    let false_ids = vec_attr::<usize>(node, "nodes_falsenodeids", n_nodes)?;
    let node_values = vec_attr::<f32>(node, "nodes_values", n_nodes)?;
    let nan_is_true = match node.get_attr_opt_vec::<bool>("nodes_missing_value_tracks_true")? {
        Some(v) => {
            node.expect_attr("nodes_missing_value_tracks_true", v.len() == n_nodes, || {
                format!("length {n_nodes}, got {}", v.len())
            })?;
            v
        }
        None => vec![false; n_nodes],
    };
    let node_modes: Vec<Option<Cmp>> = vec_attr::<&str>(node, "nodes_modes", n_nodes)?
        .iter()
        .map(|s| parse_node_mode(s))
        .collect::<TractResult<_>>()?;
    let max_used_feature = feature_ids.iter().max().copied().unwrap_or(0);

    let n_leaves = node.get_attr_slice::<i64>("target_ids")?.len();
    node.expect_attr("target_ids", n_leaves != 0, "at least one leaf")?;
    let leaf_node_ids = vec_attr::<usize>(node, "target_nodeids", n_leaves)?;
    let leaf_tree_ids = vec_attr::<usize>(node, "target_treeids", n_leaves)?;
    let leaf_target_ids = vec_attr::<usize>(node, "target_ids", n_leaves)?;
    let leaf_weights = vec_attr::<f32>(node, "target_weights", n_leaves)?;
    node.expect_attr(
        "target_ids",
        leaf_target_ids.iter().all(|&t| t < n_targets),
        "target ids below n_targets",
    )?;

    let inc_by_1 = |x: &[usize]| x.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1);
    node.expect_attr("nodes_treeids", inc_by_1(&tree_ids), "tree ids to increase by 1")?;
    node.expect_attr("target_treeids", inc_by_1(&leaf_tree_ids), "tree ids to increase by 1")?;
    node.expect_attr("nodes_treeids", tree_ids[0] == 0, "tree ids to start from 0")?;
    node.expect_attr("target_treeids", leaf_tree_ids[0] == 0, "tree ids to start from 0")?;
    let n_trees = tree_ids[n_nodes - 1] + 1;
    node.expect(
        leaf_tree_ids[n_leaves - 1] == n_trees - 1,
        "as many trees in nodes_treeids as in target_treeids",
    )?;

    let mut node_order: Vec<usize> = (0..n_nodes).collect();
    node_order.sort_by_key(|&ix| (tree_ids[ix], node_ids[ix]));
    let mut leaf_order: Vec<usize> = (0..n_leaves).collect();
    leaf_order.sort_by_key(|&ix| (leaf_tree_ids[ix], leaf_node_ids[ix]));

    let mut trees: Vec<u32> = vec![];
    let mut nodes: Vec<u32> = vec![];
    let mut leaves: Vec<u32> = vec![];
    let mut current_tree = None;
    let mut tree_root = 0u32;
    let mut in_leaf_ix = 0;
    for n in node_order {
        let node_id = node_ids[n];
        let tree_id = tree_ids[n];
        if Some(tree_id) != current_tree {
            current_tree = Some(tree_id);
            tree_root = (nodes.len() / 5) as u32;
            trees.push(tree_root);
        }
        let mut row = [0u32; 5];
        if let Some(mode) = node_modes[n] {
            row[0] = feature_ids[n] as u32;
            row[1] = true_ids[n] as u32 + tree_root;
            row[2] = false_ids[n] as u32 + tree_root;
            row[3] = node_values[n].to_bits();
            row[4] = (0x0100u32 * u32::from(nan_is_true[n])) | mode as u32;
        } else {
            row[0] = (leaves.len() / 2) as u32;
            while in_leaf_ix < n_leaves
                && leaf_tree_ids[leaf_order[in_leaf_ix]] == tree_id
                && leaf_node_ids[leaf_order[in_leaf_ix]] == node_id
            {
                let leaf = leaf_order[in_leaf_ix];
                leaves.push(leaf_target_ids[leaf] as u32);
                leaves.push(leaf_weights[leaf].to_bits());
                in_leaf_ix += 1;
            }
            row[1] = (leaves.len() / 2) as u32;
        }
        nodes.extend(row);
    }
    let n_rows = nodes.len() / 5;
    let n_leaf_rows = leaves.len() / 2;
    let data = TreeEnsembleData {
        trees: rctensor1(&trees),
        nodes: tensor1(&nodes).into_shape(&[n_rows, 5])?.into_arc_tensor(),
        leaves: tensor1(&leaves).into_shape(&[n_leaf_rows, 2])?.into_arc_tensor(),
    };
    Ok((TreeEnsemble::build(data, max_used_feature, n_targets, Aggregate::Sum)?, n_trees))
}

// ---------------------------------------------------------------------------------------------
// Label lookup (string labels of classifiers)

#[derive(Debug, Clone, Hash)]
struct LabelLookup {
    /// String tensor of the class labels, by index.
    labels: Arc<Tensor>,
}

fn label_lookup(
    _ctx: &ParsingContext<'_>,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let labels: Vec<String> = node.get_attr_vec("classlabels_strings")?;
    Ok((expand(LabelLookup { labels: rctensor1(&labels) }), vec![]))
}

impl Expansion for LabelLookup {
    fn name(&self) -> StaticName {
        LABEL_LOOKUP.into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].datum_type, DatumType::String)?;
        s.equals(&inputs[0].shape, &outputs[0].shape)?;
        Ok(())
    }

    fn wire(
        &self,
        prefix: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let index = model.wire_node(
            format!("{prefix}.to_i32"),
            tract_core::ops::cast::cast(i32::datum_type()),
            inputs,
        )?;
        model.wire_node(
            prefix,
            tract_onnx_opl::ml::DirectLookup::new(self.labels.clone(), rctensor0(String::new()))?,
            &index,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// ZipMap

#[derive(Debug, Clone, Hash)]
struct ZipMap {
    /// `classlabels_int64s` or `classlabels_strings`, one per probability column.
    n_labels: usize,
}

fn zipmap(
    _ctx: &ParsingContext<'_>,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let ints = node.get_attr_opt_slice::<i64>("classlabels_int64s")?;
    let strings = node.get_attr_opt_tvec::<&str>("classlabels_strings")?;
    let n_labels = match (ints, strings) {
        (Some(l), None) => l.len(),
        (None, Some(l)) => l.len(),
        (None, None) => bail!("ZipMap needs classlabels_int64s or classlabels_strings"),
        (Some(_), Some(_)) => {
            bail!("ZipMap has both classlabels_int64s and classlabels_strings")
        }
    };
    Ok((expand(ZipMap { n_labels }), vec![]))
}

impl Expansion for ZipMap {
    fn name(&self) -> StaticName {
        "ZipMap".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].datum_type, DatumType::F32)?;
        s.equals(&outputs[0].datum_type, DatumType::F32)?;
        s.equals(&inputs[0].rank, 2)?;
        s.equals(&inputs[0].shape, &outputs[0].shape)?;
        s.equals(&inputs[0].shape[1], self.n_labels.to_dim())?;
        Ok(())
    }

    fn wire(
        &self,
        prefix: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        model.wire_node(prefix, tract_core::ops::identity::Identity, inputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::attribute_proto::AttributeType;
    use tract_onnx::pb::{
        AttributeProto, OperatorSetIdProto, TypeProto, ValueInfoProto, type_proto,
    };
    use tract_onnx::prelude::TypedSimplePlan;

    fn ints(name: &str, v: &[i64]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: AttributeType::Ints as i32,
            ints: v.to_vec(),
            ..Default::default()
        }
    }

    fn int(name: &str, i: i64) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: AttributeType::Int as i32,
            i,
            ..Default::default()
        }
    }

    fn floats(name: &str, v: &[f32]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: AttributeType::Floats as i32,
            floats: v.to_vec(),
            ..Default::default()
        }
    }

    fn strings(name: &str, v: &[&str]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: AttributeType::Strings as i32,
            strings: v.iter().map(|s| s.as_bytes().to_vec()).collect(),
            ..Default::default()
        }
    }

    fn string(name: &str, v: &str) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: AttributeType::String as i32,
            s: v.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    fn model(nodes: Vec<NodeProto>) -> ModelProto {
        let value = |name: &str| ValueInfoProto { name: name.into(), ..Default::default() };
        ModelProto {
            ir_version: 8,
            opset_import: vec![
                OperatorSetIdProto { domain: String::new(), version: 17 },
                OperatorSetIdProto { domain: "ai.onnx.ml".into(), version: 3 },
            ],
            graph: Some(GraphProto {
                node: nodes,
                input: vec![ValueInfoProto {
                    r#type: Some(TypeProto {
                        value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                            elem_type: 1, // float
                            shape: None,
                        })),
                        ..Default::default()
                    }),
                    ..value("X")
                }],
                output: vec![value("Y")],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Two stumps on feature 0 (`x <= 0.5`): tree 0 votes 1 or 3, tree 1 votes 10 or 30.
    fn regressor(extra: Vec<AttributeProto>) -> NodeProto {
        let mut attribute = vec![
            int("n_targets", 1),
            ints("nodes_treeids", &[0, 0, 0, 1, 1, 1]),
            ints("nodes_nodeids", &[0, 1, 2, 0, 1, 2]),
            ints("nodes_featureids", &[0, 0, 0, 0, 0, 0]),
            floats("nodes_values", &[0.5, 0.0, 0.0, 0.5, 0.0, 0.0]),
            strings("nodes_modes", &["BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"]),
            ints("nodes_truenodeids", &[1, 0, 0, 1, 0, 0]),
            ints("nodes_falsenodeids", &[2, 0, 0, 2, 0, 0]),
            ints("target_treeids", &[0, 0, 1, 1]),
            ints("target_nodeids", &[1, 2, 1, 2]),
            ints("target_ids", &[0, 0, 0, 0]),
            floats("target_weights", &[1.0, 3.0, 10.0, 30.0]),
        ];
        attribute.extend(extra);
        NodeProto {
            op_type: "TreeEnsembleRegressor".into(),
            domain: "ai.onnx.ml".into(),
            input: vec!["X".into()],
            output: vec!["Y".into()],
            attribute,
            ..Default::default()
        }
    }

    fn run(proto: &ModelProto, features: usize, x: &[f32]) -> TractResult<Vec<f32>> {
        let onnx = onnx();
        let mut model = onnx.parse(proto, None)?.model;
        let rows = x.len() / features;
        model = model.with_input_fact(0, f32::fact([rows, features]).into())?;
        let plan = TypedSimplePlan::new(model.into_optimized()?)?;
        let input = tensor1(x).into_shape(&[rows, features])?;
        let out = plan.run(tvec!(input.into_tvalue()))?;
        Ok(out[0].to_plain_array_view::<f32>()?.iter().copied().collect())
    }

    #[test]
    fn tree_regressor_sums_averages_and_adds_base_values() {
        let x = [0.0f32, 1.0];
        assert_eq!(run(&model(vec![regressor(vec![])]), 1, &x).unwrap(), [11.0, 33.0]);
        let avg = regressor(vec![
            string("aggregate_function", "AVERAGE"),
            floats("base_values", &[100.0]),
        ]);
        assert_eq!(run(&model(vec![avg]), 1, &x).unwrap(), [105.5, 116.5]);
        let logistic =
            regressor(vec![string("post_transform", "LOGISTIC"), floats("base_values", &[-11.0])]);
        let y = run(&model(vec![logistic]), 1, &x).unwrap();
        assert!((y[0] - 0.5).abs() < 1e-6 && y[1] > 0.999_999, "{y:?}");
    }

    #[test]
    fn tree_regressor_refuses_min_max_and_double_trees() {
        for (attr, what) in [
            (string("aggregate_function", "MIN"), "aggregate_function"),
            (string("aggregate_function", "MAX"), "aggregate_function"),
            (string("post_transform", "PROBIT"), "PROBIT"),
            (
                AttributeProto {
                    name: "nodes_values_as_tensor".into(),
                    r#type: AttributeType::Tensor as i32,
                    ..Default::default()
                },
                "nodes_values_as_tensor",
            ),
        ] {
            let err = onnx().parse(&model(vec![regressor(vec![attr])]), None).unwrap_err();
            assert!(format!("{err:#}").contains(what), "{err:#}");
        }
    }

    #[test]
    fn scaler_centres_and_scales_each_feature() {
        let node = NodeProto {
            op_type: "Scaler".into(),
            domain: "ai.onnx.ml".into(),
            input: vec!["X".into()],
            output: vec!["Y".into()],
            attribute: vec![floats("offset", &[1.0, -1.0]), floats("scale", &[2.0, 0.5])],
            ..Default::default()
        };
        let y = run(&model(vec![node]), 2, &[1.0, 1.0, 3.0, -3.0]).unwrap();
        assert_eq!(y, [0.0, 1.0, 4.0, -1.0]);
    }

    #[test]
    fn zipmap_passes_probabilities_through_and_checks_labels() {
        let zipmap = |labels: AttributeProto| NodeProto {
            op_type: "ZipMap".into(),
            domain: "ai.onnx.ml".into(),
            input: vec!["X".into()],
            output: vec!["Y".into()],
            attribute: vec![labels],
            ..Default::default()
        };
        let x = [0.25f32, 0.75, 0.5, 0.5];
        let ok = model(vec![zipmap(strings("classlabels_strings", &["a", "b"]))]);
        assert_eq!(run(&ok, 2, &x).unwrap(), x);
        let wrong = model(vec![zipmap(ints("classlabels_int64s", &[0, 1, 2]))]);
        assert!(run(&wrong, 2, &x).is_err());
        let none = model(vec![zipmap(floats("other", &[0.0]))]);
        assert!(onnx().parse(&none, None).is_err());
    }

    #[test]
    fn unknown_operators_are_named_with_their_domain_even_in_subgraphs() {
        let node = |op: &str, domain: &str| NodeProto {
            op_type: op.into(),
            domain: domain.into(),
            ..Default::default()
        };
        let body = GraphProto { node: vec![node("FancyOp", "")], ..Default::default() };
        let mut branch = node("If", "");
        branch.attribute.push(AttributeProto {
            name: "then_branch".into(),
            r#type: AttributeType::Graph as i32,
            g: Some(body),
            ..Default::default()
        });
        let proto = model(vec![
            node("Imputer", "ai.onnx.ml"),
            node("Scaler", "ai.onnx.ml"),
            node("ZipMap", "ai.onnx.ml"),
            branch,
            node("Imputer", "ai.onnx.ml"),
        ]);
        assert_eq!(
            unsupported_operators(&onnx(), &proto),
            [
                ("FancyOp".to_string(), "ai.onnx".to_string()),
                ("Imputer".into(), "ai.onnx.ml".into())
            ]
        );
    }
}
