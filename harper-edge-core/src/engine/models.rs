//! The registry side of the engine: registering (from a file or a finished fetch job),
//! listing, removing, and the fetch queue that brings model files in.

use std::sync::{Arc, PoisonError};

use crate::backend::{self, Companion, ModelSource, ModelSpec, Session};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::fetch::jobs::{FetchJob, FetchQueue, FetchRequest, Finisher, JobResult};
use crate::fetch::{ContentStore, Fetcher, FileRecord, framework_of};
use crate::registry::{Model, ModelFile, ModelFilter, ModelRef, ModelRegistration, sha256_hex};
use crate::store::{Store, Table};

use super::Engine;
use super::text::TextEncoder;

/// A freshly loaded session, its text encoder and the name of the backend that loaded it.
pub(super) type Loadable = (Box<dyn Session>, TextEncoder, &'static str);

/// Registers `registration` in `store`: returns the existing record when `name:version` is
/// registered with the same file, else loads the model (so a corrupt one is refused), stores
/// it and returns it with its session.
pub(super) fn register(
    store: &Arc<dyn Store>,
    clock: &Arc<dyn Clock>,
    registration: &ModelRegistration,
) -> Result<(Model, Option<Loadable>)> {
    let bytes = registration.validate_and_read()?;
    let id = format!("{}:{}", registration.name(), registration.version());
    let sha256 = sha256_hex(&bytes);
    if let Some(existing) = store.model(registration.name(), registration.version())? {
        return if existing.sha256 == sha256 {
            Ok((existing, None))
        } else {
            Err(Error::Conflict {
                message: format!("model '{id}' already exists with a different file"),
            })
        };
    }
    let held = companion_files(store.as_ref(), registration.files_value(), &sha256)?;
    let companions = companions(&held);
    let spec = ModelSpec::new(&id, registration.framework(), ModelSource::Bytes(&bytes))
        .with_companions(&companions);
    let backend = backend::for_model(registration.framework(), registration.metadata_value())?;
    let session = backend.load(&spec)?;
    let encoder = TextEncoder::for_model(&spec, session.as_ref(), registration.metadata_value());
    let model = Model {
        id: id.clone(),
        model_name: registration.name().to_string(),
        model_version: registration.version().to_string(),
        framework: registration.framework(),
        stage: registration.stage_value(),
        blob_size: bytes.len() as u64,
        sha256,
        input_schema: session.inputs().to_vec(),
        output_schema: session.outputs().to_vec(),
        metadata: registration.metadata_value().clone(),
        uploaded_at: clock.now(),
        provenance: registration.provenance_value().cloned(),
        files: registration.files_value().to_vec(),
    };
    match store.insert_model(&model, &bytes) {
        Ok(()) => Ok((model, Some((session, encoder, backend.name())))),
        // Registered by another thread or process meanwhile: the same answer as above.
        Err(Error::Conflict { .. }) => {
            match store.model(&model.model_name, &model.model_version)? {
                Some(existing) if existing.sha256 == model.sha256 => Ok((existing, None)),
                _ => Err(Error::Conflict {
                    message: format!("model '{id}' already exists with a different file"),
                }),
            }
        }
        Err(e) => Err(e),
    }
}

/// The files of `files` other than the main one (`main_sha256`), as the store keeps them.
///
/// # Errors
///
/// [`Error::NotFound`] when the store lacks one; [`Error::Storage`] when it fails.
pub(super) fn companion_files(
    store: &dyn Store,
    files: &[FileRecord],
    main_sha256: &str,
) -> Result<Vec<(String, ModelFile)>> {
    files
        .iter()
        .filter(|f| f.sha256 != main_sha256)
        .map(|f| Ok((f.name.clone(), store.model_file(&f.sha256)?)))
        .collect()
}

/// [`companion_files`] as a backend reads them.
pub(super) fn companions(held: &[(String, ModelFile)]) -> Vec<Companion<'_>> {
    held.iter()
        .map(|(name, file)| Companion {
            name,
            source: match file {
                ModelFile::Bytes(b) => ModelSource::Bytes(b),
                ModelFile::Path(p) => ModelSource::Path(p),
            },
        })
        .collect()
}

/// The file a fetched model loads: the one named, else the only model file, else
/// `model.onnx` / `model.safetensors`.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the files when none or several fit.
pub(crate) fn main_file<'f>(
    files: &'f [FileRecord],
    named: Option<&str>,
) -> Result<&'f FileRecord> {
    let names = || files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ");
    if let Some(named) = named {
        return files.iter().find(|f| f.name == named).ok_or_else(|| {
            Error::invalid_input(format!(
                "main file '{named}' is not among the fetched files ({})",
                names()
            ))
        });
    }
    let models: Vec<&FileRecord> =
        files.iter().filter(|f| framework_of(&f.name).is_some()).collect();
    match models.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::invalid_input(format!(
            "no model file (.onnx or .safetensors) among the fetched files ({}); name one as \
             mainFile",
            names()
        ))),
        many => many
            .iter()
            .find(|f| matches!(f.name.rsplit('/').next(), Some("model.onnx" | "model.safetensors")))
            .copied()
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "{} model files were fetched ({}); name the one to load as mainFile",
                    many.len(),
                    names()
                ))
            }),
    }
}

/// What registers a finished job's files into `store`.
fn finisher(store: Arc<dyn Store>, clock: Arc<dyn Clock>, content: ContentStore) -> Arc<Finisher> {
    Arc::new(move |job: &FetchJob, result: &JobResult| {
        let Some(registration) = &job.registration else {
            return Err(Error::invalid_input(format!("job '{}' registers no model", job.id)));
        };
        let main = main_file(&result.files, registration.main_file.as_deref())?;
        let framework = match registration.framework {
            Some(f) => f,
            None => framework_of(&main.name).ok_or_else(|| {
                Error::invalid_input(format!(
                    "cannot tell the framework of '{}': set it in the request",
                    main.name
                ))
            })?,
        };
        let path = content.get(&main.sha256)?.path;
        let reg = ModelRegistration::new(&job.model_name, &job.model_version, framework)
            .file(path)
            .stage(registration.stage)
            .metadata(registration.metadata.clone())
            .provenance(main.provenance.clone())
            .files(result.files.clone());
        register(&store, &clock, &reg).map(|(model, _)| model.id)
    })
}

impl Engine {
    /// The data directory fetched files go to, when the engine has one.
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self.data_dir.as_deref()
    }

    /// The engine's fetch queue, started on first use: it recovers the jobs a previous
    /// process left unfinished and runs them, and registers the files of each job that asks
    /// for it ([`FetchRequest::registration`]) into this engine's store.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the engine has no data directory
    /// ([`super::EngineBuilder::data_dir`]); [`Error::Io`] / [`Error::Storage`] when the
    /// content folder or the jobs cannot be read.
    pub fn fetch_queue(&self) -> Result<Arc<FetchQueue>> {
        let mut slot = self.fetch.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = slot.as_ref() {
            return Ok(Arc::clone(queue));
        }
        let dir = self.data_dir.as_ref().ok_or_else(|| {
            Error::invalid_input(
                "this engine has no data directory to fetch into: open it with Engine::open(home) \
                 or EngineBuilder::data_dir",
            )
        })?;
        let content = ContentStore::open(dir)?;
        let fetcher = Fetcher::new(content.clone()).with_clock(Arc::clone(&self.clock));
        let finisher = finisher(Arc::clone(&self.store), Arc::clone(&self.clock), content);
        let queue = Arc::new(FetchQueue::with_finisher(
            Arc::clone(&self.store),
            fetcher,
            self.fetch_options.clone(),
            Some(finisher),
        )?);
        *slot = Some(Arc::clone(&queue));
        Ok(queue)
    }

    /// Queues a fetch ([`FetchQueue::submit_request`]) on [`Engine::fetch_queue`].
    ///
    /// # Errors
    ///
    /// As [`Engine::fetch_queue`] and [`FetchQueue::submit_request`].
    pub fn fetch_model(&self, request: FetchRequest) -> Result<FetchJob> {
        self.fetch_queue()?.submit_request(request)
    }

    /// Registered models that pass `filter`, oldest registration first.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn list_models(&self, filter: &ModelFilter) -> Result<Vec<Model>> {
        let mut models = self.store.models(filter.name.as_deref())?;
        models.retain(|m| filter.matches(m));
        Ok(models)
    }

    /// Removes the model version `reference` names, with its fetch job and the files no
    /// other model uses; returns its record. Calls already running finish on the loaded
    /// copy; its recorded calls and monitoring records stay.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `reference` names no version (removal is explicit);
    /// [`Error::NotFound`] when there is no such model; [`Error::Conflict`] while a fetch
    /// job for it is running (cancel it first).
    pub fn remove_model(&self, reference: &ModelRef) -> Result<Model> {
        let Some(version) = &reference.version else {
            return Err(Error::invalid_input(format!(
                "name the version to remove: '{}:<version>'",
                reference.name
            )));
        };
        let job_id = FetchJob::id_of(&reference.name, version);
        if let Some(record) = self.store.record(Table::FetchJob, &job_id)? {
            let job = FetchJob::from_record(&record)?;
            if !job.state.is_terminal() {
                return Err(Error::Conflict {
                    message: format!(
                        "fetch job '{job_id}' is {}; cancel it before removing the model",
                        job.state.as_str()
                    ),
                });
            }
        }
        let model = self
            .store
            .delete_model(&reference.name, version, self.clock.now())?
            .ok_or_else(|| Error::not_found("model", reference.to_string()))?;
        let _ = self.store.delete_record(Table::FetchJob, &job_id, self.clock.now())?;
        self.loaded.remove(&model.id);
        self.newest.write().unwrap_or_else(PoisonError::into_inner).remove(&model.model_name);
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::fetch::{Provenance, SourceKind};

    fn file(name: &str) -> FileRecord {
        FileRecord {
            name: name.into(),
            sha256: "0".repeat(64),
            size: 1,
            provenance: Provenance {
                source: SourceKind::Fs,
                reference: name.into(),
                revision: None,
                variant: None,
                sha256: "0".repeat(64),
                size: 1,
                fetched_at: Timestamp::from_millis(0),
            },
        }
    }

    #[test]
    fn the_main_file_is_the_model_file() {
        let files = [file("tokenizer.json"), file("onnx/model.onnx"), file("config.json")];
        assert_eq!(main_file(&files, None).unwrap().name, "onnx/model.onnx");
        let two = [file("a.onnx"), file("model.onnx")];
        assert_eq!(main_file(&two, None).unwrap().name, "model.onnx");
        let err = main_file(&[file("a.onnx"), file("b.onnx")], None).unwrap_err();
        assert!(err.to_string().contains("name the one to load"), "{err}");
        let err = main_file(&files, Some("x.onnx")).unwrap_err();
        assert!(err.to_string().contains("tokenizer.json"), "{err}");
        assert!(main_file(&[file("vocab.txt")], None).is_err());
    }
}
