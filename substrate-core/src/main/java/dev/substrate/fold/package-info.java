/**
 * What the fold decides, in the terms users see: {@link dev.substrate.fold.Decision}s, the stable
 * {@link dev.substrate.fold.Reason} codes of rejections, and the {@link dev.substrate.fold.FoldLimits} every record
 * it writes keeps within. The step itself is internal ({@code fold.internal.FoldStep}).
 */
package dev.substrate.fold;
