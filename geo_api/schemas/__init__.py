"""Request and response models, per audience: what each face of the API takes and answers."""
