// One error class per failure kind a caller may want to tell apart. Each
// carries the upstream wording in `message`, so a server can put it straight
// into a Status.

/** A label selector string or metav1.LabelSelector could not be parsed or is invalid. */
export class LabelSelectorError extends Error {
  override readonly name = 'LabelSelectorError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A field selector string could not be parsed. */
export class FieldSelectorParseError extends Error {
  override readonly name = 'FieldSelectorParseError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A field selector names a field the kind does not support (`field label not supported: x`). */
export class UnsupportedFieldLabelError extends Error {
  override readonly name = 'UnsupportedFieldLabelError';
  constructor(readonly fieldLabel: string) {
    super(`field label not supported: ${fieldLabel}`);
  }
}

/** A resource.Quantity string is malformed. */
export class QuantityParseError extends Error {
  override readonly name = 'QuantityParseError';
  constructor(message: string, readonly input: string) {
    super(message);
  }
}

/** An IntOrString held a string that is not a percentage, or a malformed one. */
export class IntOrStringError extends Error {
  override readonly name = 'IntOrStringError';
  constructor(message: string) {
    super(message);
  }
}

/** A patch document is malformed or cannot be applied to the target. */
export class PatchError extends Error {
  override readonly name = 'PatchError';
  constructor(
    message: string,
    readonly patchType: 'json' | 'merge' | 'strategic',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An object cannot be converted between API versions (unknown kind or version). */
export class ConversionError extends Error {
  override readonly name = 'ConversionError';
  constructor(message: string) {
    super(message);
  }
}
