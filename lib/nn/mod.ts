/**
 * Neural-network modules on the tensor engine: Module/Parameter with PyTorch's state-dict
 * names, layers, initialisers, losses, NoStripesNet's PatchUNet and PatchDiscriminator and its
 * MaskedGAN training step, the training loop, checkpoints (safetensors + JSON record, exact
 * resume), torch.save readers, ONNX export (opset 17) and onnxruntime-web inference.
 *
 * @module
 */
export * from "./module.ts";
export * from "./layers.ts";
export * from "./init.ts";
export * from "./losses.ts";
export * from "./trainer.ts";
export * from "./safetensors.ts";
export * from "./checkpoint.ts";
export * from "./torch_checkpoint.ts";
export * from "./onnx_export.ts";
export * from "./onnx_runtime.ts";
export * from "./run_dir.ts";
