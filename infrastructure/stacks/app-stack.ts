/** `cruddur-{env}-app`: the messages table, the state everything else serves. */
import type { Construct } from 'constructs';
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { CruddurConfig } from '../config';
import { MessagesTable } from '../constructs/messages-table';
import { awsProvider } from './aws-provider';

export class AppStack extends TerraformStack {
  public readonly messagesTable: MessagesTable;

  constructor(scope: Construct, id: string, config: CruddurConfig) {
    super(scope, id);
    awsProvider(this, config);
    this.messagesTable = new MessagesTable(this, 'messages', config.table);
    new TerraformOutput(this, 'table_name', { value: this.messagesTable.tableName });
    new TerraformOutput(this, 'table_arn', { value: this.messagesTable.tableArn });
    new TerraformOutput(this, 'stream_arn', { value: this.messagesTable.streamArn });
  }
}
