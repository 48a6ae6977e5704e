"""kiln: Keras's API on JAX. `import kiln as keras` and existing Keras code runs."""
