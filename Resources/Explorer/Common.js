// Orthanc Explorer buttons of the de-identification plugin (issue 11): the
// common part. REST calls with errors in plain words, the one dialog, job
// progress, and the profile / options / project picker.
//
// Plain JavaScript over the jQuery 1.7 / jQuery Mobile 1.1 that Orthanc
// Explorer already loads. Every value that comes from the server or from
// DICOM is inserted as text (jQuery .text(), .val(), .attr() on non-script
// attributes), never as HTML: a patient name holding markup shows as text.
// The CSS and the dialog templates (Deidentification.css, Dialogs.html) come
// in window.DeidentificationExplorerAssets, set by the plugin before the
// scripts; the plugin gives the .js files of Resources/Explorer/ in file-name
// order, and they share window.DeidentificationExplorer.
(function ($, assets) {
  'use strict';

  if (!$ || !$.mobile || !assets) {
    return;
  }

  var LEVELS = {
    patient: { plural: 'patients', name: 'patient', child: 'Studies', next: 'study' },
    study: { plural: 'studies', name: 'study', child: 'Series', next: 'series' },
    series: { plural: 'series', name: 'series', child: 'Instances', next: 'instance' },
    instance: { plural: 'instances', name: 'instance' }
  };
  var POLL_MILLISECONDS = 500;
  var ELLIPSIS = '\u2026';

  var capabilities = null;       // a promise of GET /deidentification/capabilities
  var currentDialog = null;      // the open dialog (one at a time)


  // ---- REST ----------------------------------------------------------------

  // The server's message in plain words, from Orthanc's JSON error body
  // ({"Details": ..., "Message": ..., "HttpStatus": ...}).
  function DescribeError(xhr, method, path) {
    var body = null;
    try {
      body = JSON.parse(xhr.responseText);
    } catch (e) {
      body = null;
    }

    var text;
    if (body && typeof body.Details === 'string' && body.Details !== '') {
      text = body.Details;
      if (typeof body.Message === 'string' && body.Message !== '' && body.Message !== body.Details) {
        text += ' (' + body.Message + ')';
      }
    } else if (body && typeof body.Message === 'string' && body.Message !== '') {
      text = body.Message;
    } else if (xhr.status === 0) {
      text = 'Orthanc did not answer (is it running, is the network up?)';
    } else if (xhr.status === 404) {
      text = 'Not found: this Orthanc or plugin version has no such resource or route';
    } else {
      text = 'Orthanc answered HTTP ' + xhr.status + (xhr.statusText ? ' ' + xhr.statusText : '');
    }
    return text + ' [' + method + ' ' + path + ', HTTP ' + xhr.status + ']';
  }

  // Calls Orthanc's REST API; the promise is rejected with a message in plain words.
  function Rest(method, path, body) {
    var deferred = $.Deferred();
    var settings = {
      url: '..' + path,
      type: method,
      dataType: 'json',
      cache: false,
      success: function (answer) {
        deferred.resolve(answer);
      },
      error: function (xhr) {
        deferred.reject(DescribeError(xhr, method, path));
      }
    };
    if (body !== undefined) {
      settings.data = JSON.stringify(body);
      settings.contentType = 'application/json';
    }
    $.ajax(settings);
    return deferred.promise();
  }

  function GetCapabilities() {
    if (capabilities === null) {
      capabilities = Rest('GET', '/deidentification/capabilities');
      capabilities.fail(function () {
        capabilities = null;   // retried on the next page
      });
    }
    return capabilities;
  }

  // The first instance of a resource (to read its markers).
  function FirstInstance(level, id) {
    var deferred = $.Deferred();
    (function Walk(l, resourceId) {
      if (l === 'instance') {
        deferred.resolve(resourceId);
        return;
      }
      Rest('GET', '/' + LEVELS[l].plural + '/' + resourceId).then(function (resource) {
        var children = resource[LEVELS[l].child];
        if (children && children.length > 0) {
          Walk(LEVELS[l].next, children[0]);
        } else {
          deferred.reject('The ' + l + ' has no instance');
        }
      }, function (message) {
        deferred.reject(message);
      });
    })(level, id);
    return deferred.promise();
  }

  // De-identified by this plugin (the source metadata) or by anyone
  // (PatientIdentityRemoved (0012,0062) = YES).
  function IsDeidentified(level, id, sourceMetadata) {
    var deferred = $.Deferred();
    FirstInstance(level, id).then(function (instance) {
      Rest('GET', '/instances/' + instance + '/metadata?expand').then(function (metadata) {
        if (metadata && metadata[sourceMetadata || 'DeidentifiedFrom'] !== undefined) {
          deferred.resolve(true);
          return;
        }
        Rest('GET', '/instances/' + instance + '/tags?short').then(function (tags) {
          deferred.resolve(tags && typeof tags['0012,0062'] === 'string' &&
                           $.trim(tags['0012,0062']).toUpperCase() === 'YES');
        }, function () {
          deferred.resolve(false);
        });
      }, function () {
        deferred.resolve(false);
      });
    }, function () {
      deferred.resolve(false);
    });
    return deferred.promise();
  }


  // ---- The dialog ----------------------------------------------------------

  function Template(name) {
    var template = document.getElementById('deid-template-' + name);
    return $(document.importNode(template.content, true));
  }

  function OpenDialog(title, wide) {
    if (currentDialog !== null) {
      currentDialog.Close();
    }

    var overlay = $('#deid-dialog');
    var dialog = {
      closed: false,
      body: $('#deid-dialog-body').empty(),
      footer: $('#deid-dialog-footer').empty(),

      ShowError: function (message) {
        $('#deid-error').text(message).prop('hidden', false);
      },
      ClearError: function () {
        $('#deid-error').text('').prop('hidden', true);
      },
      ShowProgress: function (percent, text) {
        $('#deid-progress').prop('hidden', false);
        $('#deid-progress-fill').css('width', Math.max(0, Math.min(100, percent)) + '%');
        $('#deid-progress-text').text(text);
      },
      ShowResult: function (node) {
        $('#deid-result').empty().append(node).prop('hidden', false);
      },
      // Back to the start: no progress, result nor error (another choice).
      Reset: function () {
        dialog.ClearError();
        $('#deid-progress, #deid-result').prop('hidden', true);
        $('#deid-result').empty();
      },
      AddButton: function (id, label, primary, onClick) {
        var button = $('<button type="button" class="deid-button">').attr('id', id).text(label);
        if (primary) {
          button.addClass('deid-primary');
        }
        button.click(function () {
          dialog.ClearError();
          onClick(button);
        });
        dialog.footer.append(button);
        return button;
      },
      Close: function () {
        dialog.closed = true;
        overlay.prop('hidden', true);
        $('#deid-dialog-body, #deid-dialog-footer, #deid-result').empty();
        if (currentDialog === dialog) {
          currentDialog = null;
        }
      }
    };

    $('#deid-dialog-title').text(title);
    $('#deid-error, #deid-result, #deid-progress').prop('hidden', true);
    $('#deid-progress-text').text('');
    $('#deid-progress-fill').css('width', '0');
    overlay.find('.deid-dialog').toggleClass('deid-wide', !!wide);
    overlay.prop('hidden', false);
    currentDialog = dialog;
    dialog.AddButton('deid-cancel', 'Close', false, function () {
      dialog.Close();
    });
    return dialog;
  }

  // A link to a resource in Orthanc Explorer.
  function ResourceLink(level, id, label) {
    return $('<a>').attr('href', '#' + level + '?uuid=' + encodeURIComponent(id))
      .attr('id', 'deid-result-link')
      .text(label)
      .click(function (event) {
        if (currentDialog !== null) {
          currentDialog.Close();
        }
        // Orthanc Explorer does not refresh a page shown again for another
        // resource of the same level: load it afresh, as its Anonymize does.
        var active = $.mobile.activePage ? $.mobile.activePage.attr('id') : '';
        if (active === level) {
          event.preventDefault();
          window.location.assign('explorer.html' + $(this).attr('href'));
          window.location.reload();
        }
      });
  }

  // Why a job failed, in plain words: the counts, then the first instances
  // with their reasons (Orthanc IDs and rule names, never DICOM values).
  function DescribeFailedJob(job) {
    var content = job.Content || {};
    var failed = content.FailedInstances || [];
    var refused = content.RefusedInstances || [];
    var counts = [];
    if (refused.length > 0) {
      counts.push(refused.length + ' instance(s) refused by the rules');
    }
    if (failed.length > 0) {
      counts.push(failed.length + ' instance(s) failed');
    }
    var message = 'The job failed: ' + (content.Error || (counts.length > 0 ? counts.join(', ')
                                                                          : job.ErrorDescription || 'no reason given'));
    var lines = [];
    $.each(refused, function (i, r) {
      var reason = r.Reason || ('refused' + (r.Rule ? ' by rule "' + r.Rule + '"' : ''));
      lines.push(reason.indexOf(r.Instance) >= 0 ? reason : 'instance ' + r.Instance + ': ' + reason);
    });
    $.each(failed, function (i, f) {
      var error = f.Error || 'failed';
      lines.push(error.indexOf(f.Instance) >= 0 ? error : 'instance ' + f.Instance + ': ' + error);
    });
    var MAX_LINES = 5;
    $.each(lines.slice(0, MAX_LINES), function (i, line) {
      message += '\n- ' + line;
    });
    if (lines.length > MAX_LINES) {
      message += '\n- and ' + (lines.length - MAX_LINES) + ' more (see the job in Jobs)';
    }
    return message;
  }

  // Follows an Orthanc job until it ends; "done" gets the finished job,
  // "failed" (optional) is called after the failure is shown.
  function FollowJob(dialog, jobId, done, failed) {
    function Poll() {
      if (dialog.closed) {
        return;
      }
      Rest('GET', '/jobs/' + encodeURIComponent(jobId)).then(function (job) {
        var content = job.Content || {};
        var count = content.InstancesCount;
        var text = 'Job ' + jobId + ': ' + job.State + ', ' + (job.Progress || 0) + '%';
        if (typeof count === 'number') {
          text += ' of ' + count + ' instance' + (count === 1 ? '' : 's');
        }
        dialog.ShowProgress(job.Progress || 0, text);

        if (job.State === 'Success') {
          done(job);
        } else if (job.State === 'Failure') {
          dialog.ShowError(DescribeFailedJob(job));
          if (failed) {
            failed(job);
          }
        } else {
          window.setTimeout(Poll, POLL_MILLISECONDS);
        }
      }, function (message) {
        dialog.ShowError(message);
      });
    }
    dialog.ShowProgress(0, 'Job ' + jobId + ' submitted' + ELLIPSIS);
    Poll();
  }


  // ---- Profile, options and project ---------------------------------------

  // Fills the settings template; "read()" gives the request body fields.
  function BuildSettings(dialog, withProject) {
    var settings = Template('settings');
    dialog.body.append(settings);
    if (withProject) {
      dialog.body.append(Template('project'));
    }

    var profiles = {};
    var profileSelect = $('#deid-profile');
    var optionList = $('#deid-option-list');

    function ShowProfile() {
      var profile = profiles[profileSelect.val()] || { Options: [] };
      $('#deid-profile-description').text(profile.Description || profile.DeidentificationMethod || '');
      optionList.find('input').each(function () {
        var input = $(this);
        var fromProfile = $.inArray(input.val(), profile.Options || []) >= 0;
        input.data('from-profile', fromProfile);
        if (fromProfile) {
          input.prop('checked', true).prop('disabled', true);
        } else if (input.data('implemented')) {
          input.prop('disabled', false);
          if (input.data('was-from-profile')) {
            input.prop('checked', false);
          }
        }
        input.data('was-from-profile', fromProfile);
      });
    }

    var loaded = $.when(Rest('GET', '/deidentification/profiles'),
                        Rest('GET', '/deidentification/options'));
    loaded.then(function (profileAnswer, optionAnswer) {
      profiles = profileAnswer || {};
      var names = $.map(profiles, function (value, name) { return name; }).sort();
      $.each(names, function (i, name) {
        var option = $('<option>').val(name).text(name + (profiles[name].Default ? ' (default)' : ''));
        option.prop('selected', !!profiles[name].Default);
        profileSelect.append(option);
      });

      $.each(optionAnswer || [], function (i, o) {
        var input = $('<input type="checkbox" name="deid-option">').val(o.Name)
          .data('implemented', !!o.Implemented).prop('disabled', !o.Implemented);
        var label = $('<label class="deid-option">').append(input)
          .append($('<span>').text(o.Name))
          .append($('<span class="deid-code">').text(o.Code));
        if (!o.Implemented) {
          label.addClass('deid-disabled').attr('title', 'Not implemented in this version');
        }
        optionList.append(label);
      });
      profileSelect.change(ShowProfile);
      ShowProfile();
    }, function (message) {
      dialog.ShowError(message);
    });

    return {
      loaded: loaded,
      Read: function () {
        var body = { Profile: profileSelect.val(), Options: [] };
        optionList.find('input:checked').each(function () {
          if (!$(this).data('from-profile')) {
            body.Options.push($(this).val());
          }
        });
        var project = $.trim($('#deid-project').val() || '');
        if (project !== '') {
          body.Project = project;
        }
        return body;
      }
    };
  }

  function CloseDialog() {
    if (currentDialog !== null) {
      currentDialog.Close();
    }
  }

  window.DeidentificationExplorer = {
    assets: assets,
    LEVELS: LEVELS,
    ELLIPSIS: ELLIPSIS,
    DescribeError: DescribeError,
    Rest: Rest,
    GetCapabilities: GetCapabilities,
    IsDeidentified: IsDeidentified,
    Template: Template,
    OpenDialog: OpenDialog,
    CloseDialog: CloseDialog,
    ResourceLink: ResourceLink,
    FollowJob: FollowJob,
    BuildSettings: BuildSettings
  };
})(window.jQuery, window.DeidentificationExplorerAssets);
