import type { IcodeDeployer } from '../adapters/api/ports.ts';
import { prepareDeploy } from '../adapters/icode/prepare-deploy.ts';
import type { IcodeDeployment } from '../domain/icode.ts';

// POST /icodes where the API runs: clone the repository (simple-git, into a temp folder removed
// afterwards), bundle HEAD and check that it compiles (adapters/icode/prepare-deploy.ts). Any problem
// is an IcodeSourceError, which the API answers with its 4xx before a tx exists; on success the API
// submits the `deploy` tx and every node installs the bundle from it when it commits.

export function gitIcodeDeployer(): IcodeDeployer {
  return {
    async deploy(gitUrl: string, sshKey?: string): Promise<IcodeDeployment> {
      const { icodeId: _id, ...deployment } = await prepareDeploy(gitUrl, sshKey ? { sshKey } : {});
      return deployment;
    },
  };
}
