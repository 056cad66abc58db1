// Orthanc Explorer, de-identification plugin: the Re-identify dialog
// (PS3.15 E.1.2). The private key file is read in the browser (FileReader),
// sent with that one request and cleared from the page; never stored.
(function ($, ns) {
  'use strict';

  if (!$ || !ns) {
    return;
  }

  var LEVELS = ns.LEVELS;
  var ELLIPSIS = ns.ELLIPSIS;
  var Rest = ns.Rest;
  var OpenDialog = ns.OpenDialog;
  var Template = ns.Template;
  var FollowJob = ns.FollowJob;
  var ResourceLink = ns.ResourceLink;

  // ---- Re-identify ---------------------------------------------------------

  function OpenReidentify(level, id) {
    var dialog = OpenDialog('Re-identify this ' + LEVELS[level].name + ' (PS3.15 E.1.2)');
    dialog.body.append(Template('reidentify'));

    dialog.AddButton('deid-reidentify-start', 'Re-identify', true, function (button) {
      var input = document.getElementById('deid-key-file');
      if (!input.files || input.files.length === 0) {
        dialog.ShowError('Choose the private key file (PEM) first.');
        return;
      }
      button.prop('disabled', true);
      var reader = new FileReader();
      reader.onerror = function () {
        button.prop('disabled', false);
        dialog.ShowError('This browser could not read the key file.');
      };
      reader.onload = function () {
        var body = { PrivateKey: String(reader.result) };
        var password = $('#deid-key-password').val();
        if (password) {
          body.Password = password;
        }
        if (level === 'instance') {
          body.Store = true;
        }
        // The key lives in this request only: forget it in the page.
        input.value = '';
        $('#deid-key-password').val('');

        Rest('POST', '/' + LEVELS[level].plural + '/' + id + '/reidentify', body).then(function (answer) {
          body = null;
          if (level === 'instance') {
            dialog.ShowProgress(100, 'Done: the re-identified instance is stored.');
            dialog.ShowResult(ResourceLink('instance', answer.ID, 'Open the re-identified instance'));
            return;
          }
          FollowJob(dialog, answer.ID, function (job) {
            var instances = (job.Content && job.Content.Instances) || [];
            if (instances.length === 0) {
              dialog.ShowError('The job ended without a re-identified instance');
              return;
            }
            Rest('GET', '/instances/' + instances[0] + '/' + level).then(function (resource) {
              dialog.ShowResult(ResourceLink(level, resource.ID, 'Open the re-identified ' + level));
            }, function (message) {
              dialog.ShowError(message);
            });
          }, function () {
            button.prop('disabled', false);
          });
        }, function (message) {
          body = null;
          button.prop('disabled', false);
          dialog.ShowError(message);
        });
      };
      reader.readAsText(input.files[0]);
    });
  }

  ns.OpenReidentify = OpenReidentify;
})(window.jQuery, window.DeidentificationExplorer);
