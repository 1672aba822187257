/** One scanner finding, reduced to what a baseline entry matches on plus what a person needs to act. */
export interface Finding {
  /** The scanner's own check id: `CKV_AWS_117`, `container-image-pull-policy`, `E2531`. */
  readonly check: string;
  /**
   * The object it is about, as the baseline names it: checkov's `AWS::Lambda::Function.ImageServeLambdaFunction`
   * or `Deployment.example-shop.m2-http`, kube-score's `Deployment/example-shop/m2-http`, cfn-lint's logical id.
   */
  readonly resource: string;
  /** What was scanned, as the report names it: `packaged template (all options)`, `overlays/example-shop`. */
  readonly file: string;
  /** The scanner's one-line description of the check. */
  readonly title: string;
}

/** The key a baseline entry and a finding share: the same check on the same object, whichever file showed it. */
export const findingKey = (check: string, resource: string): string => `${check} ${resource}`;
