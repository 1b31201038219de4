//! Tensors by name from a `model.safetensors` file, converted to f32.

use edgebert_models::{ModelError, TensorSource};
use half::{bf16, f16};
use safetensors::{Dtype, SafeTensors};

/// A parsed safetensors file over borrowed bytes.
pub struct SafetensorsSource<'a> {
    tensors: SafeTensors<'a>,
}

impl<'a> SafetensorsSource<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, safetensors::SafeTensorError> {
        Ok(SafetensorsSource { tensors: SafeTensors::deserialize(bytes)? })
    }

    /// Every tensor name in the file.
    pub fn names(&self) -> Vec<String> {
        self.tensors.names().into_iter().map(String::from).collect()
    }
}

impl TensorSource for SafetensorsSource<'_> {
    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.tensors.tensor(name).ok().map(|t| t.shape().to_vec())
    }

    fn to_f32(&self, name: &str) -> Result<Vec<f32>, ModelError> {
        let view = self.tensors.tensor(name).map_err(|_| ModelError::MissingTensor { name: name.into() })?;
        let data = view.data();
        let values = match view.dtype() {
            Dtype::F32 => {
                data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
            }
            Dtype::F16 => data.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            Dtype::BF16 => data.chunks_exact(2).map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            other => {
                return Err(ModelError::TensorData {
                    name: name.into(),
                    problem: format!("dtype {other:?} is not a float type (supported: F32, F16, BF16)"),
                })
            }
        };
        Ok(values)
    }
}
